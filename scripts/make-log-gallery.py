#!/usr/bin/env python3
"""Builds the text lab's log gallery (www/gallery/text/logs/): logs of real programs, for the
log-structure codec (`logs`) and its comparison with gzip, zstd and xz. Rebuilds the files;
the page and the tests read the committed ones.

  fail2ban-sshd.log   Debian fail2ban 1.0.2's test log of sshd (GPL-2+): real-style lines the
                      project collected from users' servers, with its `# failJSON` test comments
  fail2ban-mail.log   fail2ban's test logs of postfix, dovecot, exim and cyrus-imap, one after
                      the other (GPL-2+)
  http-access.log     Python's http.server (the standard library's, on loopback) answering a
                      load script: 2400 requests from 3 clients for pages, files that exist and
                      files that do not, its access log as it writes it to stderr (generated
                      here; no copyright claimed)
  apt-history.log     /var/log/apt/history.log of the machine that runs this (apt's own record
                      of what it installed; machine output, no copyright claimed)

The text gallery's dpkg-log.txt (dpkg's own log) is the fifth log.
"""
import glob, os, random, subprocess, sys, tempfile, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "www", "gallery", "text", "logs")


def log(*a):
    print("make-log-gallery:", *a, file=sys.stderr)


def fail2ban(work):
    debs = os.path.join(work, "debs")
    os.makedirs(debs, exist_ok=True)
    subprocess.run(["apt-get", "download", "fail2ban"], cwd=debs, check=True, capture_output=True)
    deb = glob.glob(os.path.join(debs, "fail2ban_*.deb"))[0]
    subprocess.run(["dpkg", "-x", deb, os.path.join(work, "x")], check=True)
    logs = glob.glob(os.path.join(work, "x", "usr", "lib", "python3", "dist-packages", "fail2ban", "tests", "files", "logs"))[0]
    read = lambda name: open(os.path.join(logs, name), "rb").read()
    write("fail2ban-sshd.log", read("sshd"))
    write("fail2ban-mail.log", b"".join(read(n) for n in ["postfix", "dovecot", "exim", "exim-spam", "cyrus-imap"]))
    return os.path.basename(deb)


def http_access(work):
    """An access log from a real server under load: http.server on a free loopback port."""
    site = os.path.join(work, "site")
    os.makedirs(os.path.join(site, "static"), exist_ok=True)
    pages = ["index.html", "about.html", "static/app.js", "static/style.css", "static/logo.png"]
    for p in pages:
        with open(os.path.join(site, p), "wb") as f:
            f.write(os.urandom(2000))
    # The access log goes to a file: a pipe nobody reads would fill and stall the server.
    access = open(os.path.join(work, "access.log"), "wb")
    server = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", site],
                              stdout=subprocess.PIPE, stderr=access)
    line = server.stdout.readline().decode()
    port = int(line.split("port ")[1].split(" ")[0])
    paths = ["/", "/index.html", "/about.html", "/static/app.js", "/static/style.css", "/static/logo.png",
             "/favicon.ico", "/api/v1/items?id=", "/static/missing.js", "/wp-login.php"]

    def client(seed, n):
        rng = random.Random(seed)
        for _ in range(n):
            p = rng.choices(paths, weights=[8, 6, 3, 6, 6, 5, 2, 4, 1, 1])[0]
            if p.endswith("id="):
                p += str(rng.randrange(1, 5000))
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{p}", timeout=5).read()
            except Exception:
                pass
            time.sleep(rng.random() * 0.004)

    threads = [threading.Thread(target=client, args=(s, 800)) for s in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    server.terminate()
    server.wait(timeout=10)
    access.close()
    write("http-access.log", open(os.path.join(work, "access.log"), "rb").read())


def apt_history():
    write("apt-history.log", open("/var/log/apt/history.log", "rb").read())


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    log(f"{name}: {len(data)} bytes")


def main():
    with tempfile.TemporaryDirectory() as work:
        log("fail2ban from", fail2ban(work))
        http_access(work)
        apt_history()


if __name__ == "__main__":
    main()
