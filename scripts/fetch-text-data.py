#!/usr/bin/env python3
"""Fetches the text lab's training and evaluation prose through the package registries only,
into data/text/ (ignored by git). Idempotent: books already in place are kept.

  data/text/books/<id>.txt   one public-domain book per file, plain UTF-8, the Project
                             Gutenberg header and licence removed (the books themselves are in
                             the public domain in the US; Gutenberg's trademark terms cover the
                             boilerplate this script strips)
  data/text/SOURCES.md       where each book came from and the packages' licences

Sources:
  * crates.io `scrunch` 0.14.0 (Apache-2.0 crate) ships six Project Gutenberg ebooks in
    resources/gutenberg/: Dickens' A Tale of Two Cities (#98), Stoker's Dracula (#345), Conan
    Doyle's The Adventures of Sherlock Holmes (#1661), Twain's Tom Sawyer (#74), Dumas' The
    Count of Monte Cristo (#1184, English translation) and Pope's verse Iliad with
    Buckley's notes (1899 edition).
    Fetched by `cargo fetch` in a throwaway project; the .crate is read from cargo's cache.
  * Debian `r-cran-janeaustenr` (MIT package by Julia Silge) ships Jane Austen's six novels,
    from Project Gutenberg with the boilerplate already removed, as R's lazy-load database
    (data/Rdata.rdb + Rdata.rdx): `apt-get download` + `dpkg -x`, then the database is read
    here (a zlib-compressed, XDR-serialised character vector per novel).

Never used: the classic compression corpora (Canterbury, Calgary, enwik, Silesia) or any
edition of their source books (Alice in Wonderland, As You Like It, Paradise Lost, the Bible,
Far from the Madding Crowd, ...): held-out evaluations elsewhere use them.

  MPQ_DATA_DIR   where data/ is (default: <repo>/data)
"""
import gzip, io, os, re, shutil, struct, subprocess, sys, tarfile, tempfile, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.environ.get("MPQ_DATA_DIR", os.path.join(ROOT, "data")), "text")
BOOKS = os.path.join(DATA, "books")

GUTENBERG = {  # file in scrunch → our id
    "A.Tale.of.Two.Cities.txt": "dickens-two-cities",
    "Dracula.txt": "stoker-dracula",
    "The.Adventures.of.Sherlock.Holmes.txt": "doyle-sherlock-holmes",
    "The.Adventures.of.Tom.Sawyer.txt": "twain-tom-sawyer",
    "The.Count.of.Monte.Cristo.txt": "dumas-monte-cristo",
    "The.Iliad.txt": "homer-iliad",
}
AUSTEN = {
    "emma": "austen-emma",
    "mansfieldpark": "austen-mansfield-park",
    "northangerabbey": "austen-northanger-abbey",
    "persuasion": "austen-persuasion",
    "prideprejudice": "austen-pride-prejudice",
    "sensesensibility": "austen-sense-sensibility",
}


def log(*a):
    print("fetch-text-data:", *a, file=sys.stderr)


def strip_gutenberg(text):
    """The book between the '*** START OF ...' and '*** END OF ...' lines."""
    start = re.search(r"^\*\*\* ?START OF (THIS|THE) PROJECT GUTENBERG EBOOK.*$", text, re.M)
    end = re.search(r"^\*\*\* ?END OF (THIS|THE) PROJECT GUTENBERG EBOOK.*$", text, re.M)
    if not start or not end:
        raise SystemExit("fetch-text-data: no Project Gutenberg START/END lines found")
    return text[start.end():end.start()].strip("\r\n") + "\n"


def fetch_scrunch():
    if all(os.path.exists(os.path.join(BOOKS, b + ".txt")) for b in GUTENBERG.values()):
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "src"))
        open(os.path.join(tmp, "src", "lib.rs"), "w").close()
        with open(os.path.join(tmp, "Cargo.toml"), "w") as f:
            f.write('[package]\nname = "fetch-scrunch"\nversion = "0.0.0"\nedition = "2021"\n'
                    '[dependencies]\nscrunch = "=0.14.0"\n')
        subprocess.run(["cargo", "fetch", "--quiet", "--manifest-path", os.path.join(tmp, "Cargo.toml")], check=True)
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    cache = os.path.join(home, "registry", "cache")
    crate = next((os.path.join(cache, d, "scrunch-0.14.0.crate") for d in os.listdir(cache)
                  if os.path.exists(os.path.join(cache, d, "scrunch-0.14.0.crate"))), None)
    if crate is None:
        raise SystemExit("fetch-text-data: scrunch-0.14.0.crate is not in cargo's cache after cargo fetch")
    with tarfile.open(crate) as t:
        for name, book in GUTENBERG.items():
            raw = t.extractfile(f"scrunch-0.14.0/resources/gutenberg/{name}").read().decode("utf-8")
            write_book(book, strip_gutenberg(raw.replace("\r\n", "\n")))


def r_strings(raw):
    """An R character vector from its XDR serialisation (format version 2 or 3)."""
    if raw[:2] != b"X\n":
        raise SystemExit("fetch-text-data: not an XDR-serialised R object")
    version = struct.unpack(">i", raw[2:6])[0]
    p = 14  # 'X\n', then the format version, the writer's and the minimal reader's R versions
    if version == 3:  # the native encoding's name follows
        p += 4 + struct.unpack(">i", raw[p:p + 4])[0]
    flags, n = struct.unpack(">Ii", raw[p:p + 8])
    p += 8
    if flags & 0xFF != 16:  # STRSXP
        raise SystemExit("fetch-text-data: the R object is not a character vector")
    lines = []
    for _ in range(n):
        _, length = struct.unpack(">Ii", raw[p:p + 8])
        p += 8
        if length == -1:  # NA_character_
            lines.append("")
            continue
        lines.append(raw[p:p + length].decode("utf-8"))
        p += length
    return lines


def fetch_austen():
    if all(os.path.exists(os.path.join(BOOKS, b + ".txt")) for b in AUSTEN.values()):
        return
    with tempfile.TemporaryDirectory() as tmp:
        if subprocess.run(["apt-get", "download", "r-cran-janeaustenr"], cwd=tmp, capture_output=True).returncode != 0:
            log("r-cran-janeaustenr is not in the package lists: running apt-get update")
            subprocess.run((["sudo"] if os.geteuid() != 0 else []) + ["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "download", "r-cran-janeaustenr"], cwd=tmp, check=True)
        deb = next(f for f in os.listdir(tmp) if f.endswith(".deb"))
        subprocess.run(["dpkg", "-x", deb, "x"], cwd=tmp, check=True)
        pkg = os.path.join(tmp, "x", "usr", "lib", "R", "site-library", "janeaustenr", "data")
        # The index (gzip'd serialised list): the variables' names, then per variable its
        # (offset, length) in the database as an integer vector of two.
        rdx = gzip.decompress(open(os.path.join(pkg, "Rdata.rdx"), "rb").read())
        i = rdx.index(b"\x05names") + 6
        _, count = struct.unpack(">Ii", rdx[i:i + 8])
        i += 8
        names = []
        for _ in range(count):
            _, length = struct.unpack(">Ii", rdx[i:i + 8])
            i += 8
            names.append(rdx[i:i + length].decode())
            i += length
        spans = [struct.unpack(">ii", rdx[m.end():m.end() + 8])
                 for m in re.finditer(b"\x00\x00\x00\x0d\x00\x00\x00\x02", rdx)][:count]
        rdb = open(os.path.join(pkg, "Rdata.rdb"), "rb").read()
        for name, (off, length) in zip(names, spans):
            if name not in AUSTEN:
                continue
            raw = zlib.decompress(rdb[off + 4:off + length])  # a 4-byte length, then zlib
            write_book(AUSTEN[name], "\n".join(r_strings(raw)).strip("\n") + "\n")
        shutil.copy(os.path.join(tmp, "x", "usr", "share", "doc", "r-cran-janeaustenr", "copyright"),
                    os.path.join(DATA, "janeaustenr-copyright.txt"))


def write_book(book, text):
    os.makedirs(BOOKS, exist_ok=True)
    path = os.path.join(BOOKS, book + ".txt")
    with open(path + ".part", "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(path + ".part", path)
    log(f"{book}: {len(text.encode())} bytes")


def main():
    os.makedirs(DATA, exist_ok=True)
    fetch_scrunch()
    fetch_austen()
    with open(os.path.join(DATA, "SOURCES.md"), "w") as f:
        f.write(__doc__)
    missing = [b for b in list(GUTENBERG.values()) + list(AUSTEN.values()) if not os.path.exists(os.path.join(BOOKS, b + ".txt"))]
    if missing:
        raise SystemExit(f"fetch-text-data: missing after fetching: {missing}")
    log(f"{len(GUTENBERG) + len(AUSTEN)} books in {BOOKS}")


if __name__ == "__main__":
    main()
