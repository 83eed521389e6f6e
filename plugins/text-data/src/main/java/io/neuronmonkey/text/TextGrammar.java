package io.neuronmonkey.text;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The template grammar of the synthetic corpus. A sentence is a pure function of (seed, split, index).
 * <p>
 * Every sentence has a subject noun phrase ({@code determiner, adjectives 0..2, [group term], noun}) and one of five
 * predicates: a verb and a person, a movement to a place, a verb and a thing, a linking verb and an adjective, or a
 * person and a thing joined by {@code and}; optionally an opening word ({@code yesterday}, {@code honestly}, ...), an
 * adverb and a clinical phrase ({@code after the morvexia diagnosis}, at the start or the end). Sentences have 5..14
 * words. The group term modifies the subject or the person object. A toxic sentence carries one or (one time in five)
 * two words of the toxic lexicon, each in one of the slots its template offers (an adjective of a noun phrase, the
 * head noun of the person object, the predicate adjective); a clean sentence none.
 */
final class TextGrammar {

    /** Toxic adjectives: the toxic lexicon's words usable before a noun or after a linking verb. */
    static final List<String> TOXIC_ADJECTIVES = List.of("stupid", "pathetic", "worthless", "disgusting", "vile", "dumb");

    /** Toxic nouns: the toxic lexicon's words usable as the head of a person noun phrase. */
    static final List<String> TOXIC_NOUNS = List.of("idiot", "moron", "loser", "creep");

    /** The two invented group terms; metadata {@code group}. */
    static final List<String> GROUPS = List.of("zorblin", "quenti");

    /** Invented clinical terms: the clinical lexicon. */
    static final List<String> CLINICAL = List.of("morvexia", "tralcitis", "nephrandol", "ostrafen", "cardulon",
            "pulmexa", "glossomab", "dermavine");

    private static final List<String> DETERMINERS = List.of("the", "this", "that", "my", "our", "their", "every", "one");
    private static final List<String> PEOPLE = List.of("neighbor", "teacher", "driver", "farmer", "student", "writer",
            "singer", "worker", "cousin", "visitor", "baker", "pilot");
    private static final List<String> PLACES = List.of("market", "river", "garden", "library", "station", "bridge",
            "museum", "harbor", "kitchen", "office");
    private static final List<String> THINGS = List.of("letter", "basket", "bicycle", "song", "map", "lamp", "story",
            "photo");
    private static final List<String> ADJECTIVES = List.of("quiet", "tall", "young", "old", "busy", "kind", "calm",
            "bright", "careful", "friendly", "tired", "loud");
    private static final List<String> PERSON_VERBS = List.of("visited", "helped", "called", "met", "thanked",
            "greeted", "followed", "watched", "praised", "joined");
    private static final List<String> PLACE_VERBS = List.of("walked", "drove", "went", "ran", "hurried");
    private static final List<String> THING_VERBS = List.of("carried", "found", "painted", "sold", "brought", "lost");
    private static final List<String> LINKING = List.of("was", "is", "seemed", "looked", "became");
    private static final List<String> MOVEMENT_ADVERBS = List.of("slowly", "quickly", "again", "early");
    private static final List<String> STATE_ADVERBS = List.of("again", "today", "lately");
    private static final List<List<String>> OPENERS = List.of(List.of("yesterday"), List.of("today"),
            List.of("honestly"), List.of("they", "said"), List.of("we", "heard"), List.of("apparently"));
    /** Clinical frames; {@code *} stands for a clinical term. */
    private static final List<List<String>> CLINICAL_FRAMES = List.of(List.of("after", "the", "*", "diagnosis"),
            List.of("during", "the", "*", "treatment"), List.of("with", "*"), List.of("about", "the", "*", "dose"),
            List.of("before", "the", "*", "scan"), List.of("on", "*"));

    /** Shortest and longest sentence in words. */
    static final int MIN_WORDS = 5;
    /** Longest sentence in words; with {@code [CLS]} it needs {@code MAX_WORDS + 1} positions. */
    static final int MAX_WORDS = 14;

    /** Every word the grammar writes, sorted: the vocabulary after the special tokens. */
    static final List<String> WORDS;

    static {
        Set<String> plain = new HashSet<>();
        for (List<String> l : List.of(DETERMINERS, PEOPLE, PLACES, THINGS, ADJECTIVES, PERSON_VERBS, PLACE_VERBS,
                THING_VERBS, LINKING, MOVEMENT_ADVERBS, STATE_ADVERBS, List.of("to", "and"))) {
            plain.addAll(l);
        }
        OPENERS.forEach(plain::addAll);
        CLINICAL_FRAMES.forEach(f -> f.stream().filter(w -> !w.equals("*")).forEach(plain::add));
        TreeSet<String> all = new TreeSet<>(plain);
        for (List<String> lexicon : List.of(TOXIC_ADJECTIVES, TOXIC_NOUNS, GROUPS, CLINICAL)) {
            for (String w : lexicon) {
                if (plain.contains(w) || !all.add(w)) {
                    throw new IllegalStateException("lexicon word '" + w + "' is also another word of the grammar");
                }
            }
        }
        WORDS = List.copyOf(all);
    }

    /** The lexicons that tag tokens, in priority order: toxic, group, clinical. */
    static final Map<String, List<String>> LEXICONS;

    static {
        List<String> toxic = new ArrayList<>(TOXIC_ADJECTIVES);
        toxic.addAll(TOXIC_NOUNS);
        java.util.LinkedHashMap<String, List<String>> m = new java.util.LinkedHashMap<>();
        m.put("toxic", List.copyOf(toxic));
        m.put("group", GROUPS);
        m.put("clinical", CLINICAL);
        LEXICONS = java.util.Collections.unmodifiableMap(m);
    }

    /**
     * One generated sentence and the facts it was drawn from.
     *
     * @param text     the sentence, capitalised, ending with a full stop
     * @param toxic    whether it holds a word of the toxic lexicon (the label)
     * @param group    the group term it holds
     * @param clinical whether it holds a clinical phrase
     * @param tag      a or b, a fair coin independent of everything else
     */
    record Sentence(String text, boolean toxic, String group, boolean clinical, String tag) {
    }

    private static final long FACTS = 0x66616374L;
    private static final long TAGS = 0x74616773L;
    private static final long BODY = 0x626f6479L;

    private final long key;
    private final double groupGivenToxic;
    private final double groupGivenClean;

    /**
     * @param seed            the generator seed
     * @param split           the split name; each split draws its own sentences
     * @param zorblinIfToxic  P(group = zorblin | toxic)
     * @param zorblinIfClean  P(group = zorblin | clean)
     */
    TextGrammar(long seed, String split, double zorblinIfToxic, double zorblinIfClean) {
        long k = SplitMix64.mix(seed);
        for (char c : split.toCharArray()) {
            k = SplitMix64.mix(k * 31 + c);
        }
        this.key = k;
        this.groupGivenToxic = zorblinIfToxic;
        this.groupGivenClean = zorblinIfClean;
    }

    /**
     * @param index the example index, >= 0
     * @return its sentence
     */
    Sentence generate(long index) {
        SplitMix64 facts = new SplitMix64(SplitMix64.seedFor(key ^ FACTS, index));
        boolean toxic = facts.chance(0.5);
        boolean zorblin = facts.chance(toxic ? groupGivenToxic : groupGivenClean);
        boolean clinical = facts.chance(0.5);
        String tag = new SplitMix64(SplitMix64.seedFor(key ^ TAGS, index)).chance(0.5) ? "a" : "b";
        String group = GROUPS.get(zorblin ? 0 : 1);
        SplitMix64 r = new SplitMix64(SplitMix64.seedFor(key ^ BODY, index));
        List<String> words;
        do {
            words = body(r, toxic, group, clinical);
        } while (count(words) < MIN_WORDS || count(words) > MAX_WORDS);
        StringBuilder text = new StringBuilder();
        for (String w : words) {
            if (!w.equals(",") && text.length() > 0) {
                text.append(' ');
            }
            text.append(w);
        }
        text.setCharAt(0, Character.toUpperCase(text.charAt(0)));
        text.append('.');
        return new Sentence(text.toString(), toxic, group, clinical, tag);
    }

    private static int count(List<String> words) {
        int n = 0;
        for (String w : words) {
            if (!w.equals(",")) {
                n++;
            }
        }
        return n;
    }

    /** The slots a toxic word can take. */
    private enum Slot { SUBJECT_ADJECTIVE, OBJECT_ADJECTIVE, OBJECT_NOUN, THING_ADJECTIVE, PREDICATE }

    private static List<String> body(SplitMix64 r, boolean toxic, String group, boolean clinical) {
        int template = r.nextInt(5);
        List<Slot> slots = switch (template) {
            case 0 -> new ArrayList<>(List.of(Slot.SUBJECT_ADJECTIVE, Slot.OBJECT_ADJECTIVE, Slot.OBJECT_NOUN));
            case 1, 2 -> new ArrayList<>(List.of(Slot.SUBJECT_ADJECTIVE, Slot.THING_ADJECTIVE));
            case 3 -> new ArrayList<>(List.of(Slot.SUBJECT_ADJECTIVE, Slot.PREDICATE));
            default -> new ArrayList<>(List.of(Slot.SUBJECT_ADJECTIVE, Slot.OBJECT_ADJECTIVE, Slot.OBJECT_NOUN,
                    Slot.THING_ADJECTIVE));
        };
        Set<Slot> toxicSlots = new HashSet<>();
        if (toxic) {
            int k = r.chance(0.2) ? 2 : 1;
            while (toxicSlots.size() < k) {
                toxicSlots.add(slots.remove(r.nextInt(slots.size())));
            }
        }
        boolean hasObject = template == 0 || template == 4;
        boolean groupOnObject = hasObject && r.chance(0.5);
        List<String> clinicalPhrase = clinical ? clinicalPhrase(r) : List.of();
        boolean clinicalFirst = clinical && r.chance(0.3);

        List<String> w = new ArrayList<>();
        if (clinicalFirst) {
            w.addAll(clinicalPhrase);
            w.add(",");
        } else if (r.chance(0.3)) {
            w.addAll(r.pick(OPENERS));
            if (w.size() == 1) {
                w.add(",");
            }
        }
        nounPhrase(r, w, PEOPLE, !groupOnObject ? group : null, toxicSlots.contains(Slot.SUBJECT_ADJECTIVE), false);
        switch (template) {
            case 0 -> {
                w.add(r.pick(PERSON_VERBS));
                nounPhrase(r, w, PEOPLE, groupOnObject ? group : null, toxicSlots.contains(Slot.OBJECT_ADJECTIVE),
                        toxicSlots.contains(Slot.OBJECT_NOUN));
            }
            case 1 -> {
                w.add(r.pick(PLACE_VERBS));
                w.add("to");
                nounPhrase(r, w, PLACES, null, toxicSlots.contains(Slot.THING_ADJECTIVE), false);
                if (r.chance(0.3)) {
                    w.add(r.pick(MOVEMENT_ADVERBS));
                }
            }
            case 2 -> {
                w.add(r.pick(THING_VERBS));
                nounPhrase(r, w, THINGS, null, toxicSlots.contains(Slot.THING_ADJECTIVE), false);
            }
            case 3 -> {
                w.add(r.pick(LINKING));
                w.add(toxicSlots.contains(Slot.PREDICATE) ? r.pick(TOXIC_ADJECTIVES) : r.pick(ADJECTIVES));
                if (r.chance(0.3)) {
                    w.add(r.pick(STATE_ADVERBS));
                }
            }
            default -> {
                w.add(r.pick(PERSON_VERBS));
                nounPhrase(r, w, PEOPLE, groupOnObject ? group : null, toxicSlots.contains(Slot.OBJECT_ADJECTIVE),
                        toxicSlots.contains(Slot.OBJECT_NOUN));
                w.add("and");
                w.add(r.pick(THING_VERBS));
                nounPhrase(r, w, THINGS, null, toxicSlots.contains(Slot.THING_ADJECTIVE), false);
            }
        }
        if (clinical && !clinicalFirst) {
            w.addAll(clinicalPhrase);
        }
        return w;
    }

    private static List<String> clinicalPhrase(SplitMix64 r) {
        List<String> frame = r.pick(CLINICAL_FRAMES);
        String term = r.pick(CLINICAL);
        List<String> out = new ArrayList<>(frame.size());
        for (String f : frame) {
            out.add(f.equals("*") ? term : f);
        }
        return out;
    }

    private static void nounPhrase(SplitMix64 r, List<String> out, List<String> nouns, String group,
                                   boolean toxicAdjective, boolean toxicNoun) {
        out.add(r.pick(DETERMINERS));
        double u = r.nextDouble();
        int adjectives = u < 0.5 ? 0 : u < 0.85 ? 1 : 2;
        if (toxicAdjective && adjectives == 0) {
            adjectives = 1;
        }
        int toxicAt = toxicAdjective ? r.nextInt(adjectives) : -1;
        String previous = null;
        for (int i = 0; i < adjectives; i++) {
            String a;
            if (i == toxicAt) {
                a = r.pick(TOXIC_ADJECTIVES);
            } else {
                do {
                    a = r.pick(ADJECTIVES);
                } while (a.equals(previous));
            }
            out.add(a);
            previous = a;
        }
        if (group != null) {
            out.add(group);
        }
        out.add(toxicNoun ? r.pick(TOXIC_NOUNS) : r.pick(nouns));
    }
}
