#!/usr/bin/env python3
"""Builds the text lab's classification sets, the fixed split committed under
www/gallery/text/classify/ (the page, `mpqlab classify` and the tests read that file; this script
only rebuilds it). Everything comes through Debian's package registry (`apt-get download`, then
`dpkg -x`; no root needed unless the package lists must be refreshed).

  lang.json   language identification: 11 languages from Debian's fortune-cookie packages
  dna.json    DNA: the phylum of a bacterial 16S rRNA gene, 4 phyla (Debian microbiomeutil-data)

Usage: scripts/make-classify-data.py [lang|dna|all]   (default all)

The language set. Records are the cookies between `%` lines, cleaned so that the label is the
only thing a classifier can learn from:
  * ANSI colour codes removed (fortunes-zh colours its titles and authors);
  * records that read like IRC logs (`<nick>`, `[12:34]`, `*** Joins`, `#chan (nick@host)`) dropped (fortunes-de has
    channel logs), and the files that are logs, ASCII art, code or another language left out
    (fortunes-cs ships Slovak as klasik-sk; fortunes has ascii-art, perl);
  * attribution lines (`-- Author`) removed: a name says little about the language of the text;
  * whitespace collapsed to single spaces; records of 40–300 characters kept (and ≤ 600 bytes);
  * records in a non-English set whose words are ≥ 25 % English function words dropped (several
    sets quote English), and records with fewer than 60 % letters among their non-space
    characters dropped (tables, art);
  * duplicates (after cleaning) dropped, within and across languages.
Then each language's records are shuffled with a fixed seed and the first TRAIN go to the
training split, the next TEST to the test split. Same packages, same file.
"""
import glob, json, os, random, re, subprocess, sys, tempfile, unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "www", "gallery", "text", "classify")
TRAIN, TEST, SEED = 60, 30, 27

# label → (name, Debian package, files or directories under usr/share/games/fortunes, licence
# as the package's copyright file states it)
LANGUAGES = {
    "en": ("English", "fortunes", [
        "computers", "cookie", "definitions", "education", "food", "humorists", "kids", "law",
        "love", "medicine", "men-women", "miscellaneous", "people", "pets", "platitudes",
        "politics", "science", "sports", "wisdom", "work"],
        "BSD (the fortune cookies of BSD fortune(6), per /usr/share/doc/fortunes/copyright)"),
    "de": ("German", "fortunes-de", ["de"], "GPL-2+"),
    "es": ("Spanish", "fortunes-es", ["es"], "GPL-2+ (the package; the quotes are presumed public domain)"),
    "it": ("Italian", "fortunes-it", ["it"], "public domain (\"consider this package freeware\")"),
    "pt": ("Portuguese", "fortunes-br", ["brasil"], "GPL-2+"),
    "ru": ("Russian", "fortunes-ru", ["ru"], "GPL-2 / GPL-2+"),
    "bg": ("Bulgarian", "fortunes-bg", ["bg"], "GPL-2+"),
    "pl": ("Polish", "fortunes-pl", ["pl"], "GPL-2+"),
    "cs": ("Czech", "fortunes-cs", ["cs"], "GPL"),
    "eo": ("Esperanto", "fortunes-eo", ["eo"], "GPL (its translation into Esperanto, per the copyright file)"),
    "zh": ("Chinese", "fortunes-zh", ["chinese", "song100", "tang300"], "GPL-3+"),
}
SKIP_FILES = {"channel-debian.fortunes", "asciiart", "klasik-sk", "irc", "cows", "ascii-art", "perl", "translations"}
ENGLISH_WORDS = set("the and of to is you a in that it for are be with this not have on as was i".split())
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
IRC = re.compile(r"(^|\n)\s*(<[^>\s]{1,20}>|\[\d\d:\d\d(:\d\d)?\]|\*\*\* |\d\d:\d\d\s+<)|#[\w.-]+ \(\S+@|@IN\)")
ATTRIBUTION = re.compile(r"^\s*(--|—|―)\s*\S.*$", re.M)


def log(*a):
    print("make-classify-data:", *a, file=sys.stderr)


def extract(packages, into):
    debs = os.path.join(into, "debs")
    os.makedirs(debs, exist_ok=True)
    for p in packages:
        if glob.glob(os.path.join(debs, f"{p}_*.deb")):
            continue
        if subprocess.run(["apt-get", "download", p], cwd=debs, capture_output=True).returncode != 0:
            log(f"{p}: not in the package lists; running apt-get update")
            sudo = [] if os.getuid() == 0 else ["sudo"]
            subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "download", p], cwd=debs, check=True)
    versions = {}
    for deb in sorted(glob.glob(os.path.join(debs, "*.deb"))):
        subprocess.run(["dpkg", "-x", deb, os.path.join(into, "x")], check=True)
        name = os.path.basename(deb)
        versions[name.split("_")[0]] = name
    return os.path.join(into, "x"), versions


def files_of(base, entries):
    for e in entries:
        path = os.path.join(base, e)
        found = sorted(glob.glob(os.path.join(path, "*"))) if os.path.isdir(path) else [path]
        for f in found:
            name = os.path.basename(f)
            if name.endswith((".dat", ".u8")) or os.path.islink(f) or os.path.isdir(f) or name in SKIP_FILES:
                continue
            # Where the original is in a legacy encoding its .u8 twin is the UTF-8 one (fortunes-pl
            # ships empty twins beside UTF-8 originals): the first of the two that is valid UTF-8.
            for candidate in (f, f + ".u8"):
                if os.path.exists(candidate) and os.path.getsize(candidate) > 0:
                    try:
                        open(candidate, "rb").read().decode("utf-8")
                    except UnicodeDecodeError:
                        continue
                    yield candidate
                    break


def clean(record):
    if IRC.search(record):
        return None
    text = ANSI.sub("", record)
    text = ATTRIBUTION.sub("", text)
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    chars = [c for c in text if not c.isspace()]
    if not (40 <= len(text) <= 300) or len(text.encode()) > 600 or not chars:
        return None
    if sum(c.isalpha() for c in chars) < 0.6 * len(chars):
        return None
    return text


def english_share(text):
    words = re.findall(r"[a-z']+", text.lower())
    return sum(w in ENGLISH_WORDS for w in words) / max(1, len(text.split()))


def make_lang(work):
    base, versions = extract(sorted({v[1] for v in LANGUAGES.values()}), work)
    base = os.path.join(base, "usr", "share", "games", "fortunes")
    seen, split = set(), {"train": [], "test": []}
    counts = {}
    for label, (name, package, entries, licence) in LANGUAGES.items():
        records = []
        for f in files_of(base, entries):
            raw = open(f, "rb").read().decode("utf-8")
            for r in re.split(r"\n%\n", raw.replace("\r\n", "\n")):
                t = clean(r)
                if t is None or "\ufffd" in t or t in seen:
                    continue
                if label != "en" and english_share(t) >= 0.25:
                    continue
                seen.add(t)
                records.append(t)
        random.Random(f"{SEED}-{label}").shuffle(records)
        if len(records) < TRAIN + TEST:
            sys.exit(f"{label}: only {len(records)} records after cleaning, {TRAIN + TEST} needed")
        counts[label] = len(records)
        split["train"] += [[label, t] for t in records[:TRAIN]]
        split["test"] += [[label, t] for t in records[TRAIN:TRAIN + TEST]]
    doc = {
        "task": "lang",
        "title": "Language identification, 11 languages (Debian fortune cookies)",
        "version": 1,
        "labels": list(LANGUAGES),
        "names": {k: v[0] for k, v in LANGUAGES.items()},
        "sources": {k: {"package": versions[v[1]], "licence": v[3], "records_after_cleaning": counts[k]} for k, v in LANGUAGES.items()},
        "split": f"{TRAIN} training and {TEST} test records per language, shuffled with seed {SEED}; built by scripts/make-classify-data.py",
        "train": split["train"],
        "test": split["test"],
    }
    write("lang.json", doc)
    for k in LANGUAGES:
        log(f"lang {k}: {counts[k]} records after cleaning")


def write(name, doc):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        # One record per line: readable diffs, small file.
        f.write("{\n")
        keys = list(doc)
        for i, k in enumerate(keys):
            v = doc[k]
            if k in ("train", "test"):
                f.write(f' "{k}": [\n' + ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in v) + "\n ]")
            else:
                f.write(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}")
            f.write(",\n" if i + 1 < len(keys) else "\n")
        f.write("}\n")
    log(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    with tempfile.TemporaryDirectory() as work:
        if what in ("lang", "all"):
            make_lang(os.path.join(work, "lang"))
        if what in ("dna", "all"):
            make_dna(os.path.join(work, "dna"))


DNA_PACKAGE = "microbiomeutil-data"
DNA_FILE = "usr/share/microbiomeutil-data/RESOURCES/rRNA16S.gold.fasta"
PHYLA = ["Proteobacteria", "Actinobacteria", "Firmicutes", "Bacteroidetes"]
DNA_TRAIN, DNA_TEST = 60, 30
DNA_FRAGMENT = 300


def make_dna(work):
    """The DNA set: 16S rRNA genes (the gene every bacterium carries, read for taxonomy) from
    the Broad Institute's ChimeraSlayer gold set in Debian's microbiomeutil-data (BSD-3-clause),
    labelled with their phylum (the lineage in each header). Only complete-looking genes (1200–
    1700 bases, A/C/G/T only) of the four phyla with enough genera. The split is by genus: no
    genus of the test split is in the training split (a genome's several 16S copies, and a
    genus's species, are near-identical, which would make the task a lookup). Test: 30 genera
    per phylum, one gene each; training: one gene from each of up to 60 other genera (a second
    gene of a genus where the phylum has fewer than 60 left). Each record is a 300-base
    fragment of its gene from a random offset, as a sequencing read of one region would be:
    whole genes of one phylum share so much that every method scores 1.0 (gzip, zlib, brotli
    and PPMd all did on whole genes)."""
    base, versions = extract([DNA_PACKAGE], work)
    records, header, seq = [], None, []
    for line in open(os.path.join(base, DNA_FILE)):
        line = line.rstrip("\n")
        if line.startswith(">"):
            if header:
                records.append((header, "".join(seq)))
            header, seq = line, []
        else:
            seq.append(line.strip())
    records.append((header, "".join(seq)))
    by_phylum = {p: {} for p in PHYLA}
    for h, s in records:
        lineage = [x.strip() for x in h.split("\t")[-1].split(";")]
        s = s.upper()
        if len(lineage) < 6 or lineage[1] not in by_phylum or set(s) - set("ACGT") or not 1200 <= len(s) <= 1700:
            continue
        by_phylum[lineage[1]].setdefault(lineage[-1], []).append(s)
    train, test = [], []
    for p in PHYLA:
        rng = random.Random(f"{SEED}-{p}")
        genera = sorted(by_phylum[p])
        rng.shuffle(genera)
        for g in genera:
            rng.shuffle(by_phylum[p][g])
        cut = lambda gene: (lambda o: gene[o:o + DNA_FRAGMENT])(rng.randrange(len(gene) - DNA_FRAGMENT + 1))
        test += [[p, cut(by_phylum[p][g][0])] for g in genera[:DNA_TEST]]
        rest = genera[DNA_TEST:]
        picked = [by_phylum[p][g][0] for g in rest]
        picked += [by_phylum[p][g][1] for g in rest if len(by_phylum[p][g]) > 1]
        if len(picked) < DNA_TRAIN:
            sys.exit(f"{p}: only {len(picked)} training genes")
        train += [[p, cut(s)] for s in picked[:DNA_TRAIN]]
    doc = {
        "task": "dna",
        "title": "DNA: the bacterial phylum of a 300-base 16S rRNA fragment, 4 phyla (Broad Institute gold set)",
        "version": 1,
        "labels": PHYLA,
        "names": {p: p for p in PHYLA},
        "sources": {"package": versions[DNA_PACKAGE], "file": DNA_FILE, "licence": "BSD-3-clause (© 2009-2010 The Broad Institute, per the package's copyright file)"},
        "split": f"by genus: {DNA_TEST} test genera per phylum, one gene each; each record a {DNA_FRAGMENT}-base fragment from a random offset; {DNA_TRAIN} training genes per phylum from the other genera; seed {SEED}; built by scripts/make-classify-data.py",
        "train": train,
        "test": test,
    }
    write("dna.json", doc)


if __name__ == "__main__":
    main()
