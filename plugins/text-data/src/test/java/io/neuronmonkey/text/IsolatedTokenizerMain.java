package io.neuronmonkey.text;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Loads a tokenizer.json the way a plugin does: in a JVM where the thread's context class loader cannot see the
 * tokenizer library (inside PF4J it is the application's loader, not the plugin's). Prints the ids of a sentence.
 */
public final class IsolatedTokenizerMain {

    private IsolatedTokenizerMain() {
    }

    /** @param args the tokenizer.json path, then the sentence */
    public static void main(String[] args) {
        Thread.currentThread().setContextClassLoader(ClassLoader.getPlatformClassLoader());
        HuggingFaceTextTokenizer t = HuggingFaceTextTokenizer.load(Path.of(args[0]), 16, "tokenizer");
        System.out.println("ids " + Arrays.toString(t.encode(args[1], true).ids()));
        if (Thread.currentThread().getContextClassLoader() != ClassLoader.getPlatformClassLoader()) {
            throw new IllegalStateException("the context class loader was not restored");
        }
    }
}
