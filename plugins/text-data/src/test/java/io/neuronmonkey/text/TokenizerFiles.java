package io.neuronmonkey.text;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Tiny Hugging Face tokenizer.json files written by hand, whose encodings can be worked out on paper. */
final class TokenizerFiles {

    private TokenizerFiles() {
    }

    private static String special(int id, String content) {
        return "{\"id\":" + id + ",\"content\":\"" + content + "\",\"single_word\":false,\"lstrip\":false,"
                + "\"rstrip\":false,\"normalized\":false,\"special\":true}";
    }

    private static String template(String open, int openId, String close, int closeId) {
        String o = "{\"SpecialToken\":{\"id\":\"" + open + "\",\"type_id\":0}}";
        String c0 = "{\"SpecialToken\":{\"id\":\"" + close + "\",\"type_id\":0}}";
        String c1 = "{\"SpecialToken\":{\"id\":\"" + close + "\",\"type_id\":1}}";
        return "{\"type\":\"TemplateProcessing\","
                + "\"single\":[" + o + ",{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}," + c0 + "],"
                + "\"pair\":[" + o + ",{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}," + c0
                + ",{\"Sequence\":{\"id\":\"B\",\"type_id\":1}}," + c1 + "],"
                + "\"special_tokens\":{\"" + open + "\":{\"id\":\"" + open + "\",\"ids\":[" + openId + "],\"tokens\":[\""
                + open + "\"]},\"" + close + "\":{\"id\":\"" + close + "\",\"ids\":[" + closeId + "],\"tokens\":[\""
                + close + "\"]}}}";
    }

    /**
     * A BERT-style WordPiece tokenizer: lower-casing normalizer, BERT pre-tokenizer (splits at spaces and
     * punctuation), {@code [CLS] ... [SEP]}; vocabulary {@code [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 the=4 cat=5 play=6
     * ##ing=7 ##s=8 .=9 dog=10}.
     *
     * @param file where to write
     * @return {@code file}
     */
    static Path wordPiece(Path file) throws IOException {
        String json = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
                + "\"added_tokens\":[" + special(0, "[PAD]") + "," + special(1, "[UNK]") + "," + special(2, "[CLS]") + ","
                + special(3, "[SEP]") + "],"
                + "\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,"
                + "\"strip_accents\":null,\"lowercase\":true},"
                + "\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
                + "\"post_processor\":" + template("[CLS]", 2, "[SEP]", 3) + ","
                + "\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true},"
                + "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":\"##\","
                + "\"max_input_chars_per_word\":100,\"vocab\":{\"[PAD]\":0,\"[UNK]\":1,\"[CLS]\":2,\"[SEP]\":3,"
                + "\"the\":4,\"cat\":5,\"play\":6,\"##ing\":7,\"##s\":8,\".\":9,\"dog\":10}}}";
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.writeString(file, json, StandardCharsets.UTF_8);
    }

    /**
     * A character-level BPE tokenizer: whitespace pre-tokenizer, {@code <s> ... </s>}, pad token {@code <pad>}=21;
     * vocabulary {@code <unk>=0 <s>=1 </s>=2 l=3 o=4 w=5 e=6 r=7 n=8 s=9 t=10 lo=11 low=12 er=13 lower=14 es=15
     * est=16 lowest=17 ne=18 new=19 newest=20}; merges in rank order {@code l o, lo w, e r, low er, e s, es t,
     * low est, n e, ne w, new est}.
     *
     * @param file where to write
     * @return {@code file}
     */
    static Path bpe(Path file) throws IOException {
        String json = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
                + "\"added_tokens\":[" + special(0, "<unk>") + "," + special(1, "<s>") + "," + special(2, "</s>") + ","
                + special(21, "<pad>") + "],"
                + "\"normalizer\":null,"
                + "\"pre_tokenizer\":{\"type\":\"Whitespace\"},"
                + "\"post_processor\":" + template("<s>", 1, "</s>", 2) + ","
                + "\"decoder\":null,"
                + "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\",\"continuing_subword_prefix\":null,"
                + "\"end_of_word_suffix\":null,\"fuse_unk\":false,\"byte_fallback\":false,"
                + "\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2,\"l\":3,\"o\":4,\"w\":5,\"e\":6,\"r\":7,\"n\":8,\"s\":9,"
                + "\"t\":10,\"lo\":11,\"low\":12,\"er\":13,\"lower\":14,\"es\":15,\"est\":16,\"lowest\":17,\"ne\":18,"
                + "\"new\":19,\"newest\":20,\"<pad>\":21},"
                + "\"merges\":[\"l o\",\"lo w\",\"e r\",\"low er\",\"e s\",\"es t\",\"low est\",\"n e\",\"ne w\","
                + "\"new est\"]}}";
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.writeString(file, json, StandardCharsets.UTF_8);
    }

    /**
     * A Unigram tokenizer with a Metaspace pre-tokenizer (a space becomes {@code ▁}, one is put before the text) and
     * no special tokens; pieces {@code <unk>=0 ▁=1 ▁hello=2 ▁world=3 ▁hel=4 lo=5 s=6} with log-probabilities
     * {@code 0, -3, -2, -2.5, -4, -4, -3}.
     *
     * @param file where to write
     * @return {@code file}
     */
    static Path unigram(Path file) throws IOException {
        String json = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
                + "\"added_tokens\":[" + special(0, "<unk>") + "],"
                + "\"normalizer\":null,"
                + "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"prepend_scheme\":\"always\","
                + "\"split\":true},"
                + "\"post_processor\":null,"
                + "\"decoder\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"prepend_scheme\":\"always\","
                + "\"split\":true},"
                + "\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0.0],[\"\\u2581\",-3.0],"
                + "[\"\\u2581hello\",-2.0],[\"\\u2581world\",-2.5],[\"\\u2581hel\",-4.0],[\"lo\",-4.0],[\"s\",-3.0]],"
                + "\"byte_fallback\":false}}";
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.writeString(file, json, StandardCharsets.UTF_8);
    }
}
