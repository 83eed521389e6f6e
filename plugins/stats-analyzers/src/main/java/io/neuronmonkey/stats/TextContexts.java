package io.neuronmonkey.stats;

import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.result.ExampleSet;

import java.util.ArrayList;
import java.util.List;

/**
 * Windows of text around a token, as {@link ExampleSet.TextContext}: each token's piece is its surface together with
 * the text between the previous token and it (spaces, punctuation the tokenizer dropped), so that the pieces joined
 * give the text of the window from its first token's start to its last token's end; a special token (no offsets) is
 * its token string. Where tokens overlap in the text (a character split over two tokens) a piece holds only the text
 * not yet covered, so nothing is repeated.
 */
final class TextContexts {

    private TextContexts() {
    }

    /**
     * @param tokens  the example's tokens
     * @param focus   the sequence position of the token that fired
     * @param context tokens on each side
     * @param real    the number of real positions (tokens) of the sequence
     * @return {@code [first, last]} positions of the window, clipped to the real tokens
     */
    static int[] window(Tokens tokens, int focus, int context, int real) {
        int len = Math.min(tokens.length(), real);
        return new int[]{Math.max(0, focus - context), Math.min(len - 1, focus + context)};
    }

    /**
     * @param tokens the example's tokens
     * @param first  the window's first sequence position
     * @param values the neuron's value per window token
     * @param focus  the sequence position of the token that fired, inside the window
     * @return the window as a text context
     */
    static ExampleSet.TextContext context(Tokens tokens, int first, float[] values, int focus) {
        return new ExampleSet.TextContext(pieces(tokens, first, first + values.length - 1), values, focus - first, first);
    }

    /** @return the pieces of tokens {@code first..last} (inclusive) */
    static List<String> pieces(Tokens tokens, int first, int last) {
        String text = tokens.text();
        List<String> out = new ArrayList<>(last - first + 1);
        int cursor = -1;
        for (int i = first; i <= last; i++) {
            if (tokens.start(i) < 0) {
                out.add(tokens.tokens().get(i));
                continue;
            }
            int from = cursor < 0 ? tokens.start(i) : cursor;
            int to = Math.max(from, tokens.end(i));
            out.add(text.substring(from, to));
            cursor = to;
        }
        return out;
    }
}
