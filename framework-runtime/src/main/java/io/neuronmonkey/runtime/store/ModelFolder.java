package io.neuronmonkey.runtime.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Where {@code neuronmonkey train} puts a model, and what it may replace there. The promise: nothing the trainer did
 * not write is ever deleted or overwritten. A folder is recognised as an earlier model by the {@code training.json}
 * the trainer wrote into it; it lists the files of that model ({@code files}), and for models written before the
 * list existed the files that the new model also has count as the trainer's. A new model is written beside the
 * target and swapped in by renames; files the trainer did not write stay where they are, and where the new model
 * needs one of their names they are kept under {@code NAME.before-TIMESTAMP}.
 */
public final class ModelFolder {

    /** The file the trainer writes into every model folder; it marks the folder as the trainer's. */
    public static final String TRAINING_JSON = "training.json";

    /** What is at the target now. */
    public enum Kind { ABSENT, EMPTY, MODEL, OTHER, FILE }

    private final Path target;
    private final Kind kind;
    private final List<String> listed;

    private ModelFolder(Path target, Kind kind, List<String> listed) {
        this.target = target;
        this.kind = kind;
        this.listed = listed;
    }

    /** Looks at a target folder without changing anything. */
    public static ModelFolder inspect(Path target) {
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            return new ModelFolder(target, Kind.ABSENT, null);
        }
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            return new ModelFolder(target, Kind.FILE, null);
        }
        try (Stream<Path> s = Files.list(target)) {
            if (s.findAny().isEmpty()) {
                return new ModelFolder(target, Kind.EMPTY, null);
            }
        } catch (IOException e) {
            return new ModelFolder(target, Kind.OTHER, null);
        }
        Optional<Map<String, Object>> training = readTrainingJson(target);
        if (training.isEmpty()) {
            return new ModelFolder(target, Kind.OTHER, null);
        }
        List<String> listed = null;
        if (training.get().get("files") instanceof List<?> files) {
            listed = files.stream().map(String::valueOf).toList();
        }
        return new ModelFolder(target, Kind.MODEL, listed);
    }

    private static Optional<Map<String, Object>> readTrainingJson(Path dir) {
        Path f = dir.resolve(TRAINING_JSON);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            Map<String, Object> m = Json.readMap(f);
            return m.get("trainer") instanceof String && m.containsKey("metrics") ? Optional.of(m) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    public Kind kind() {
        return kind;
    }

    public Path target() {
        return target;
    }

    /**
     * Why the trainer must not write here, or empty when it may. {@code force} allows a folder holding other files
     * (the model is added beside them); a plain file is never replaced.
     */
    public Optional<String> refusal(boolean force) {
        if (target.getParent() == null) {
            return Optional.of("cannot write a model to the root folder " + target + "; name a folder for the model");
        }
        if (kind == Kind.FILE) {
            return Optional.of(target + " is a file, not a folder; a model is a folder, and a file the trainer did not write"
                    + " is never replaced (even with --force): choose another output");
        }
        if (kind == Kind.OTHER && !force) {
            List<String> entries = entries(target);
            return Optional.of(target + " already holds " + entries.size() + " entr" + (entries.size() == 1 ? "y" : "ies")
                    + " the trainer did not write (" + preview(entries) + ") and no " + TRAINING_JSON
                    + "; a model is written only into a new or empty folder or over an earlier model: choose another output,"
                    + " or pass --force to add the model beside them (nothing there is deleted)");
        }
        return Optional.empty();
    }

    /** Hidden sibling the trainer writes the new model into. */
    public Path partial() {
        return target.resolveSibling("." + target.getFileName() + ".partial");
    }

    /**
     * Moves the model in {@code partial} (complete, with its training.json) into the target.
     *
     * @return notes on files that were kept aside (empty when none)
     */
    public List<String> install(Path partial) throws IOException {
        ModelFolder now = inspect(target);
        List<String> notes = new ArrayList<>();
        Set<String> fresh = files(partial);
        switch (now.kind) {
            case ABSENT -> {
                Files.createDirectories(target.getParent());
                AtomicFiles.move(partial, target);
            }
            case EMPTY -> {
                // renaming a folder onto an empty one is atomic; a folder that filled up meanwhile refuses the rename
                AtomicFiles.move(partial, target);
            }
            case MODEL, OTHER -> {
                Set<String> old = files(target);
                Set<String> known = new TreeSet<>();
                if (now.kind == Kind.MODEL) {
                    for (String f : old) {
                        boolean ours = now.listed != null ? now.listed.contains(f) : f.equals(TRAINING_JSON) || fresh.contains(f);
                        if (ours) {
                            known.add(f);
                        }
                    }
                }
                Path backup = target.resolveSibling("." + target.getFileName() + ".replaced-" + UUID.randomUUID());
                if (known.containsAll(old) && !hasSymlinks(target)) {
                    AtomicFiles.move(target, backup);
                    AtomicFiles.move(partial, target);
                    AtomicFiles.deleteTree(backup);
                } else {
                    merge(partial, known, backup, notes);
                }
            }
            case FILE -> throw new IOException(target + " became a file while the model was trained");
            default -> throw new IllegalStateException();
        }
        return notes;
    }

    /** Entry by entry: the trainer's old files go, anything else stays (renamed where the new model needs its name). */
    private void merge(Path partial, Set<String> known, Path backup, List<String> notes) throws IOException {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Files.createDirectories(backup);
        List<String> newEntries = entries(partial);
        for (String e : newEntries) {
            Path dest = target.resolve(e);
            if (Files.exists(dest, LinkOption.NOFOLLOW_LINKS)) {
                if (allKnown(e, known)) {
                    AtomicFiles.move(dest, backup.resolve(e));
                } else {
                    Path kept = target.resolve(e + ".before-" + stamp);
                    for (int i = 2; Files.exists(kept, LinkOption.NOFOLLOW_LINKS); i++) {
                        kept = target.resolve(e + ".before-" + stamp + "-" + i);
                    }
                    AtomicFiles.move(dest, kept);
                    notes.add("kept " + dest + " (not written by the trainer) as " + kept.getFileName());
                }
            }
            AtomicFiles.move(partial.resolve(e), dest);
        }
        for (String e : entries(target)) {
            if (!newEntries.contains(e) && allKnown(e, known)) {
                AtomicFiles.move(target.resolve(e), backup.resolve(e));
            }
        }
        AtomicFiles.deleteTree(backup);
        AtomicFiles.deleteTree(partial);
    }

    /** True when the entry (a file, or a folder with everything in it) was written by the trainer. */
    private boolean allKnown(String entry, Set<String> known) throws IOException {
        Path p = target.resolve(entry);
        if (Files.isSymbolicLink(p)) {
            return false;
        }
        if (!Files.isDirectory(p)) {
            return known.contains(entry);
        }
        Set<String> inside = files(p);
        if (inside.isEmpty() || hasSymlinks(p)) {
            return false;
        }
        for (String f : inside) {
            if (!known.contains(entry + "/" + f)) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasSymlinks(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.anyMatch(Files::isSymbolicLink);
        }
    }

    /** Every regular file below a folder, as '/'-separated relative paths. */
    public static Set<String> files(Path dir) throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
                out.add(dir.relativize(p).toString().replace('\\', '/'));
            }
        }
        return out;
    }

    private static List<String> entries(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String preview(Collection<String> names) {
        List<String> l = new ArrayList<>(names);
        return l.size() <= 4 ? String.join(", ", l) : String.join(", ", l.subList(0, 4)) + ", ...";
    }
}
