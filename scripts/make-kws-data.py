#!/usr/bin/env python3
"""Generates the keyword-spotting data set with Debian's espeak-ng and flite (GPL-3 / BSD-like
synthesisers; the clips they produce carry no licence of their own: we make them).

    python3 scripts/make-kws-data.py [--out DIR] [--seed N]
    (default DIR: $HOME/.cache/mpqlab/kws; needs `apt-get install espeak-ng flite sox`)

Writes DIR/clips/*.wav (16 kHz mono 16-bit, as synthesised: silence around the word; the
trainer finds the word and places it in a 1 s window) and DIR/manifest.tsv (path, label,
split, engine, accent, voice, rate, pitch). Everything random comes from --seed; the
synthesisers are deterministic, so the same seed gives the same files.

The split holds out whole voices and accents, so the test split measures speakers the model
never heard:
  * espeak-ng: 8 English accents; en-gb-scotland and en-us-nyc are test-only. espeak-ng's 100
    voice variants (!v: male1…, female1…, klatt…, whisper, croak, named voices) are sorted and
    every fifth is test-only. A test clip has a test accent *or* a test variant; a training clip
    has neither (the combinations in between are not used at all).
  * flite: kal, kal16, awb and slt for training; rms (a US male voice) test-only. (slt is
    flite's only female voice: held out, the model never hears a flite female voice, and in
    a first run it got 51 % of slt's words against 95 % of espeak-ng's held-out voices.)
Speaking rate (espeak-ng -s 110–210 wpm, flite duration stretch 0.8–1.3) and pitch (espeak-ng
-p 20–80) are drawn per clip. The "silence" class and the background noise are made by the
trainer (seeded), not here.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

KEYWORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
# Words that are none of the keywords (Speech Commands' auxiliary words, plus near misses of
# the keywords: "know", "yet", "often", "gone"), all labelled "unknown".
UNKNOWN = ["bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
           "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
           "learn", "follow", "forward", "backward", "visual", "know", "yet", "often", "gone",
           "light", "top", "own"]
TRAIN_ACCENTS = ["en", "en-us", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029"]
TEST_ACCENTS = ["en-gb-scotland", "en-us-nyc"]
FLITE_TRAIN = ["kal", "kal16", "awb", "slt"]
FLITE_TEST = ["rms"]
# Clips per keyword and in all for "unknown", per split.
PER_KEYWORD = {"train": 900, "test": 60}
UNKNOWN_TOTAL = {"train": 1800, "test": 60}
FLITE_SHARE = 0.15


def espeak_variants():
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    names = sorted({line.split()[4].split("/")[-1] for line in out.splitlines()[1:] if line.strip()})
    return names


def pick_voice(rng, split, variants):
    test_variants = variants[4::5]
    train_variants = [v for i, v in enumerate(variants) if i % 5 != 4]
    if rng.random() < FLITE_SHARE:
        voice = rng.choice(FLITE_TRAIN if split == "train" else FLITE_TEST)
        return ("flite", "en-us", voice, round(rng.uniform(0.8, 1.3), 2), 0)
    if split == "train":
        accent, variant = rng.choice(TRAIN_ACCENTS), rng.choice(train_variants)
    else:
        # A held-out accent, a held-out variant, or both.
        kind = rng.randrange(3)
        accent = rng.choice(TEST_ACCENTS) if kind != 1 else rng.choice(TRAIN_ACCENTS)
        variant = rng.choice(test_variants) if kind != 0 else rng.choice(train_variants)
    return ("espeak-ng", accent, variant, rng.randrange(110, 211), rng.randrange(20, 81))


def synthesise(word, engine, accent, voice, rate, pitch, raw):
    if engine == "espeak-ng":
        cmd = ["espeak-ng", "-v", f"{accent}+{voice}", "-s", str(rate), "-p", str(pitch), "-w", raw, word]
    else:
        cmd = ["flite", "-voice", voice, "--setf", f"duration_stretch={rate}", "-t", word, "-o", raw]
    subprocess.run(cmd, check=True, capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.expanduser("~"), ".cache/mpqlab/kws"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    for tool in ["espeak-ng", "flite", "sox"]:
        if shutil.which(tool) is None:
            sys.exit(f"make-kws-data: {tool} is missing: apt-get install espeak-ng flite sox")
    rng = random.Random(args.seed)
    variants = espeak_variants()
    clips = os.path.join(args.out, "clips")
    os.makedirs(clips, exist_ok=True)
    rows = []
    jobs = []
    for split in ["train", "test"]:
        for word in KEYWORDS:
            jobs += [(split, word, word)] * PER_KEYWORD[split]
        jobs += [(split, "unknown", rng.choice(UNKNOWN)) for _ in range(UNKNOWN_TOTAL[split])]
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.wav")
        for k, (split, label, word) in enumerate(jobs):
            engine, accent, voice, rate, pitch = pick_voice(rng, split, variants)
            name = f"{split}-{k:05d}-{word}.wav"
            path = os.path.join(clips, name)
            if not os.path.exists(path):
                synthesise(word, engine, accent, voice, rate, pitch, raw)
                subprocess.run(["sox", "-D", raw, "-r", "16000", "-c", "1", "-b", "16", path], check=True, capture_output=True)
            rows.append([f"clips/{name}", label, split, engine, accent, voice, str(rate), str(pitch), word])
            if k % 500 == 0:
                print(f"make-kws-data: {k}/{len(jobs)}", file=sys.stderr)
    with open(os.path.join(args.out, "manifest.tsv"), "w") as f:
        f.write("path\tlabel\tsplit\tengine\taccent\tvoice\trate\tpitch\tword\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"make-kws-data: {len(rows)} clips in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
