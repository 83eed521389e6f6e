package io.neuronmonkey.stats;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

/** Numbers as claims, notes and labels write them. */
final class Numbers {

    private Numbers() {
    }

    /**
     * @return x to {@code digits} significant digits without trailing zeros ({@code 4.83}, {@code 0.91},
     *         {@code 1230}); scientific notation below 1e-3 and from 1e6 on; {@code NaN}, {@code Infinity} as Java
     *         writes them
     */
    static String sig(double x, int digits) {
        if (!Double.isFinite(x)) {
            return Double.toString(x);
        }
        if (x == 0) {
            return "0";
        }
        double a = Math.abs(x);
        if (a < 1e-3 || a >= 1e6) {
            return String.format(Locale.ROOT, "%." + (digits - 1) + "e", x);
        }
        return new BigDecimal(x).round(new MathContext(digits)).stripTrailingZeros().toPlainString();
    }

    /** @return x to 3 significant digits, see {@link #sig(double, int)} */
    static String sig3(double x) {
        return sig(x, 3);
    }

    /** @return the shortest decimal that reads back as x ({@code 0.125}, {@code 10000.0009765625}, {@code -2}) */
    static String exact(double x) {
        if (!Double.isFinite(x)) {
            return Double.toString(x);
        }
        if (x == 0) {
            return "0";
        }
        double a = Math.abs(x);
        if (a < 1e-6 || a >= 1e15) {
            return Double.toString(x);
        }
        return BigDecimal.valueOf(x).stripTrailingZeros().toPlainString();
    }

    private static final java.util.regex.Pattern INTEGER = java.util.regex.Pattern.compile("-?(0|[1-9][0-9]{0,18})");
    private static final java.util.regex.Pattern DECIMAL =
            java.util.regex.Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+([eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)");

    /**
     * @return {@code s} as a number when it is one in JSON's grammar: an {@link Integer} or {@link Long} for integers
     *         without leading zeros (up to 19 digits), a {@link Double} for finite numbers with a fraction or an
     *         exponent; otherwise {@code s} unchanged
     */
    static Object parse(String s) {
        // called for every metadata value of every kept example: the patterns are compiled once
        if (s == null) {
            return null;
        }
        if (s.isEmpty() || !(s.charAt(0) == '-' || s.charAt(0) >= '0' && s.charAt(0) <= '9')) {
            return s;
        }
        if (INTEGER.matcher(s).matches()) {
            try {
                long v = Long.parseLong(s);
                return v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE ? (Object) (int) v : (Object) v;
            } catch (NumberFormatException e) {
                return s;
            }
        }
        if (DECIMAL.matcher(s).matches()) {
            double v = Double.parseDouble(s);
            return Double.isFinite(v) ? (Object) v : s;
        }
        return s;
    }
}
