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

    /** @return true when {@link TextEncoding#typeIds()} is given, so batches carry {@code token_type_ids} */
    boolean hasTypeIds();

    /** @return the id padding positions get */
    int padId();
}
