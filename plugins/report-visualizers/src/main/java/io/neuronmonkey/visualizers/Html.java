package io.neuronmonkey.visualizers;

import java.nio.charset.StandardCharsets;

/** A small HTML writer: every piece of text goes through {@link #text} and every attribute through {@link #attr}. */
final class Html {

    private final StringBuilder out = new StringBuilder(1 << 16);

    /** Appends markup written by this plugin (never text from results or config). */
    Html raw(String markup) {
        out.append(markup);
        return this;
    }

    /** Appends text, escaped. */
    Html text(Object text) {
        out.append(escape(String.valueOf(text)));
        return this;
    }

    /** Appends {@code <tag>text</tag>} with the text escaped. */
    Html el(String tag, Object text) {
        return raw("<" + tag + ">").text(text).raw("</" + tag.split(" ", 2)[0] + ">");
    }

    /** Appends {@code <tag attr="value">}, the value escaped. */
    Html open(String tag, String attr, String value) {
        return raw("<" + tag + " " + attr + "=\"").raw(escape(value)).raw("\">");
    }

    /**
     * @param s any text, non-null
     * @return the text with {@code & < > " '} replaced by entities, safe in element content and quoted attributes
     */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * @param path a '/'-separated relative path
     * @return the path percent-encoded for an {@code href} (unreserved characters and '/' kept)
     */
    static String encodePath(String path) {
        StringBuilder b = new StringBuilder();
        for (byte x : path.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (x & 0xFF);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "-._~/".indexOf(c) >= 0) {
                b.append(c);
            } else {
                b.append('%').append(String.format("%02X", x & 0xFF));
            }
        }
        return b.toString();
    }

    /** @return an id attribute value built from any text ({@code [A-Za-z0-9_-]}) */
    static String id(String prefix, String text) {
        return prefix + "-" + text.replaceAll("[^A-Za-z0-9_-]", "_");
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
