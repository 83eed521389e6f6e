package io.neuronmonkey.runtime.store;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.OutputException;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The top of a run folder: the names the runtime writes there, and the claim that makes one run its only writer.
 * A run holds an exclusive lock on {@code run.lock} for as long as it runs; the operating system drops the lock when
 * the process ends, however it ends, so a lock that can be taken means no live run is writing. The claim is taken
 * before anything else is written and the folder's contents are checked only while it is held, so two runs into the
 * same folder cannot both pass. Leftovers of a run that died are recognised by their names alone: hidden
 * {@code .<step>.partial} and {@code .<step>.replaced-*} folders, the {@code .work} folder and {@code .<file>.tmp}
 * files, all of which only the runtime writes.
 */
public final class RunFolder implements AutoCloseable {

    public static final String EXPERIMENT = "experiment.yaml";
    public static final String PROVENANCE = "provenance.json";
    public static final String REPORT = "report.html";
    public static final String INDEX = "index.json";
    public static final String LOCK = "run.lock";
    public static final String WORK = ".work";
    /** A failed step leaves {@code <id>.failed/}. */
    public static final String FAILED_SUFFIX = ".failed";

    /** Files the runtime writes at the top of every run folder; no step may be named like them. */
    public static final List<String> RESERVED = List.of(EXPERIMENT, PROVENANCE, REPORT, INDEX, LOCK);

    private static final Pattern LEFTOVER = Pattern.compile("\\.[A-Za-z0-9][A-Za-z0-9._-]*\\.(partial|replaced-[0-9a-f-]+|tmp)");

    /** How a folder is claimed. */
    public enum Mode {
        /** A new run: the folder must be new or empty. */
        NEW,
        /** Continuing a run: the folder must hold one. */
        RESUME
    }

    /** Folders this process holds claims on. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;
    private final List<String> recovered;

    private RunFolder(Path dir, FileChannel channel, FileLock lock, List<String> recovered) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
        this.recovered = recovered;
    }

    /**
     * Why a step id cannot be used, or empty when it can: step folders sit beside the runtime's own files, so an id
     * must not be one of their names (compared ignoring case, as some file systems do) nor end in {@code .failed}.
     */
    public static Optional<String> reservedName(String id) {
        String lower = id.toLowerCase(Locale.ROOT);
        if (RESERVED.contains(lower) || lower.endsWith(FAILED_SUFFIX)) {
            return Optional.of("step id '" + id + "' is reserved: a step's folder sits beside the files the runtime writes at the top"
                    + " of the run folder (" + String.join(", ", RESERVED) + ") and the '<id>" + FAILED_SUFFIX
                    + "' folders of failed steps; choose another id");
        }
        return Optional.empty();
    }

    /**
     * Makes this process the only writer of {@code dir}, creating it if needed.
     *
     * @throws ConfigException when another live run holds the folder, when a new run finds it not empty, or when a
     *                         resumed one finds no run there
     */
    public static RunFolder claim(Path dir, Mode mode) {
        Path d = dir.toAbsolutePath().normalize();
        if (Files.exists(d) && !Files.isDirectory(d)) {
            throw new ConfigException((mode == Mode.NEW ? "--out " : "--resume ") + d + " is a file, not a folder");
        }
        boolean isRun = Files.isRegularFile(d.resolve(PROVENANCE));
        if (mode == Mode.RESUME && !isRun) {
            throw new ConfigException("--resume " + d + " is not a run folder: it has no " + PROVENANCE
                    + " (a run folder is what 'neuronmonkey run' writes; pass the folder it printed)");
        }
        if (mode == Mode.NEW && !isRun && Files.isDirectory(d)) {
            // a folder that is not a run gets nothing written into it, not even the lock file
            List<String> entries = list(d);
            if (!entries.isEmpty()) {
                throw notEmpty(d, entries, "");
            }
        }
        if (!HELD.add(d)) {
            // held by this process: opening run.lock again (and closing it) could drop that claim's lock
            throw inUse(d, "pid " + ProcessHandle.current().pid() + ", this process");
        }
        try {
            return claimLocked(d, mode);
        } catch (RuntimeException e) {
            HELD.remove(d);
            throw e;
        }
    }

    private static RunFolder claimLocked(Path d, Mode mode) {
        Path lockFile = d.resolve(LOCK);
        FileChannel ch;
        try {
            Files.createDirectories(d);
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new OutputException("cannot create output folder " + d + ": " + e.getMessage(), e);
        }
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException | IOException e) {
            l = null;
        }
        if (l == null) {
            String holder = holder(ch);
            closeQuietly(ch);
            throw inUse(d, holder);
        }
        RunFolder f = new RunFolder(d, ch, l, new ArrayList<>());
        try {
            f.recoverAbandoned();
            if (mode == Mode.NEW) {
                List<String> entries = f.entries();
                if (!entries.isEmpty()) {
                    String status = f.status();
                    throw notEmpty(d, entries, (status != null && !"completed".equals(status)
                            ? "; the run there ended " + status + ", to continue it: neuronmonkey run --resume " + d : "")
                            + (f.recovered.isEmpty() ? "" : ". " + String.join("; ", f.recovered)));
                }
            }
            f.writeHolder();
            return f;
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    public Path dir() {
        return dir;
    }

    /** What was found and repaired from a run that died without recording its end (empty when nothing). */
    public List<String> recovered() {
        return List.copyOf(recovered);
    }

    /** The status recorded in provenance.json, or null when there is none. */
    public String status() {
        try {
            Object s = Json.readMap(dir.resolve(PROVENANCE)).get("status");
            return s == null ? null : s.toString();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * With the claim held, nothing else writes here: a provenance still saying "running" belongs to a run that died
     * (killed, or the machine went down). Its leftovers are removed and its provenance tells the truth.
     */
    private void recoverAbandoned() {
        List<String> removed = removeLeftovers();
        Path prov = dir.resolve(PROVENANCE);
        if (!Files.isRegularFile(prov)) {
            if (!removed.isEmpty()) {
                recovered.add("removed leftovers of an earlier run: " + String.join(", ", removed));
            }
            return;
        }
        Map<String, Object> m;
        try {
            m = new LinkedHashMap<>(Json.readMap(prov));
        } catch (RuntimeException e) {
            return;
        }
        if (!"running".equals(m.get("status"))) {
            if (!removed.isEmpty()) {
                recovered.add("removed leftovers of an earlier run: " + String.join(", ", removed));
            }
            return;
        }
        m.put("status", "interrupted");
        m.put("stopReason", "the process ended without recording its end (killed or crashed); found by a later run at " + Instant.now());
        List<Object> steps = new ArrayList<>();
        List<String> done = new ArrayList<>();
        if (m.get("steps") instanceof List<?> l) {
            for (Object o : l) {
                steps.add(o);
                if (o instanceof Map<?, ?> sm && sm.get("id") != null) {
                    done.add(String.valueOf(sm.get("id")));
                }
            }
        }
        if (m.get("resolvedSteps") instanceof List<?> l) {
            for (Object o : l) {
                if (o instanceof Map<?, ?> sm && sm.get("id") != null && !done.contains(String.valueOf(sm.get("id")))) {
                    Map<String, Object> notRun = new LinkedHashMap<>();
                    notRun.put("id", String.valueOf(sm.get("id")));
                    notRun.put("state", "not-run");
                    notRun.put("seconds", 0.0);
                    steps.add(notRun);
                }
            }
        }
        m.put("steps", steps);
        Json.write(prov, m);
        recovered.add("the run there had died while running; its state is now 'interrupted'"
                + (removed.isEmpty() ? "" : " and its partial output (" + String.join(", ", removed) + ") was removed"));
    }

    /** Removes what only the runtime names as partial; returns the names removed. */
    public List<String> removeLeftovers() {
        return removeLeftovers(dir);
    }

    /** Removes what only the runtime names as partial at the top of a run folder; returns the names removed. */
    public static List<String> removeLeftovers(Path dir) {
        List<String> removed = new ArrayList<>();
        for (String e : list(dir)) {
            if (e.equals(WORK) || LEFTOVER.matcher(e).matches()) {
                Path p = dir.resolve(e);
                if (Files.isSymbolicLink(p)) {
                    continue;
                }
                AtomicFiles.deleteTree(p);
                removed.add(e);
            }
        }
        return removed;
    }

    private static ConfigException inUse(Path d, String holder) {
        return new ConfigException("output folder " + d + " is in use by another run" + (holder.isEmpty() ? "" : " (" + holder + ")")
                + "; two runs never write into one folder: choose another --out, or wait until that run ends");
    }

    private static ConfigException notEmpty(Path d, List<String> entries, String more) {
        return new ConfigException("output folder " + d + " exists and is not empty; results are never written over: choose"
                + " another --out or remove it (it holds " + preview(entries) + ")" + more);
    }

    /** Top-level entries other than the lock file, sorted. */
    public List<String> entries() {
        return list(dir);
    }

    private static List<String> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(LOCK)).sorted().toList();
        } catch (IOException e) {
            throw new OutputException("cannot read output folder " + dir + ": " + e.getMessage(), e);
        }
    }

    private void writeHolder() {
        String text = "pid " + ProcessHandle.current().pid() + " on " + host() + " since " + Instant.now() + "\n";
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
        } catch (IOException e) {
            // the lock is what matters; the text only helps the message another run prints
        }
    }

    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(512);
            int n = ch.read(b, 0);
            return n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String name = ManagementFactory.getRuntimeMXBean().getName();
            return name.contains("@") ? name.substring(name.indexOf('@') + 1) : "this machine";
        }
    }

    private static String preview(List<String> names) {
        return names.size() <= 4 ? String.join(", ", names) : String.join(", ", names.subList(0, 4)) + ", ... " + names.size() + " entries";
    }

    /**
     * Ends the claim. {@code run.lock} stays (unlocked): deleting it could let a run that opened it a moment earlier
     * lock a file no longer in the folder while a third run locks a new one.
     */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(channel);
        HELD.remove(dir);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
