package io.neuronmonkey.text;

/**
 * Turns a text into token ids with the offsets of each token. Implementations are immutable and thread-safe.
 */
public interface TextTokenizer extends AutoCloseable {

    /**
     * @param text              the raw text, non-null
     * @param addSpecialTokens  whether to add the tokenizer's special tokens (such as {@code [CLS]})
     * @return the text's tokens, unpadded and untruncated
     */
    TextEncoding encode(String text, boolean addSpecialTokens);

    /**
     * @param texts            raw texts, non-null
     * @param addSpecialTokens whether to add the tokenizer's special tokens
     * @return their encodings, in order; the default encodes one text after the other
     */
    default java.util.List<TextEncoding> encodeAll(java.util.List<String> texts, boolean addSpecialTokens) {
        java.util.List<TextEncoding> out = new java.util.ArrayList<>(texts.size());
        for (String t : texts) {
            out.add(encode(t, addSpecialTokens));
        }
        return out;
    }

    /**
     * Cuts an encoding longer than {@code maxLength} the tokenizer's way; the default keeps the first
     * {@code maxLength} tokens.
     *
     * @param text             the raw text
     * @param encoding         its full encoding ({@link #encode})
     * @param addSpecialTokens whether the encoding has the special tokens
     * @param maxLength        the most tokens to keep, >= 1
     * @return an encoding of at most {@code maxLength} tokens
     */
    default TextEncoding truncate(String text, TextEncoding encoding, boolean addSpecialTokens, int maxLength) {
        return encoding.truncated(maxLength);
    }

    /** @return true when {@link TextEncoding#typeIds()} is given, so batches carry {@code token_type_ids} */
    boolean hasTypeIds();

    /** @return the id padding positions get */
    int padId();

    /** Releases native resources; the default holds none. */
    @Override
    default void close() {
    }
}
