package io.neuronmonkey.text;

/**
 * Turns a text into token ids with the offsets of each token. Implementations are immutable and thread-safe.
 */
public interface TextTokenizer {

    /**
     * @param text              the raw text, non-null
     * @param addSpecialTokens  whether to add the tokenizer's special tokens (such as {@code [CLS]})
     * @return the text's tokens, unpadded and untruncated
     */
    TextEncoding encode(String text, boolean addSpecialTokens);

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
}
