/**
 * Text data: the seeded {@code synthetic-text} corpus with planted toxic, group and clinical lexicons, file sources
 * for CSV, TSV, JSON Lines and plain text, the built-in {@link io.neuronmonkey.text.WordVocabulary word vocabulary}
 * and Hugging Face {@code tokenizer.json} tokenizers. Batches follow the text conventions of
 * {@link io.neuronmonkey.api.data.Batch}.
 */
package io.neuronmonkey.text;
