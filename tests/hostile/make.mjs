// Writes the hostile-input suite into tests/hostile/files/ (committed; run again only to change
// it): truncated and corrupted files of every image format, wrong magic, zero-sized and
// 1×100000 images, headers claiming 20000×20000, decompression bombs. cases.json says what each
// must give, in the CLI (crates/cli/tests/hostile.rs) and in the page (tests/e2e/hostile.test.mjs).
//
//   MPQLAB_BIN=target/debug/mpqlab node tests/hostile/make.mjs
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const OUT = path.join(ROOT, 'tests/hostile/files');
const CLI = process.env.MPQLAB_BIN;
if (!CLI) throw new Error('MPQLAB_BIN must name the mpqlab binary');
fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(OUT, { recursive: true });
const put = (name, bytes) => fs.writeFileSync(path.join(OUT, name), bytes);

// A deterministic byte stream (xorshift), so the files are the same every time.
let state = 0x9e3779b97f4a7c15n;
function random(n) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    state ^= state << 13n; state &= (1n << 64n) - 1n;
    state ^= state >> 7n;
    state ^= state << 17n; state &= (1n << 64n) - 1n;
    out[i] = Number(state & 0xffn);
  }
  return out;
}

function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}
function png(w, h, colorType, rows) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = colorType;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (rows) parts.push(chunk('IDAT', zlib.deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}
/** Raw PNG scanlines of zeros: filter byte 0 and `bpp × w` zero bytes per row. */
const zeroRows = (w, h, bpp) => Buffer.alloc((1 + w * bpp) * h);

function compress(codec, params = []) {
  const out = path.join(OUT, `.tmp.${codec}`);
  execFileSync(CLI, ['compress', path.join(ROOT, 'www/gallery/coffee.png'), '-c', codec, ...params.flatMap((p) => ['-p', p]), '-o', out], { stdio: 'ignore' });
  const b = fs.readFileSync(out);
  fs.rmSync(out);
  return b;
}

// Empty, text, wrong magic.
put('empty.png', Buffer.alloc(0));
put('text.png', Buffer.from('this is text, not a picture\n'.repeat(40)));
put('jpeg-magic-then-noise.jpg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), random(4000)]));
put('png-named-jpg.jpg', png(16, 16, 2, zeroRows(16, 16, 3))); // sniffed by content: opens

// Truncated and damaged files of every format.
const jpeg = compress('jpeg', ['quality=75']);
put('cut-3k.jpg', jpeg.subarray(0, 3000));
const damaged = Buffer.from(jpeg);
for (let i = 2000; i < damaged.length - 10; i += 997) damaged[i] ^= 0x5a;
put('damaged.jpg', damaged);
put('cut.png', compress('png').subarray(0, 3000));
put('cut.webp', compress('webp-lossless').subarray(0, 3000)); // (and a 16000² header below)
put('cut.qoi', compress('qoi').subarray(0, 3000));
const avif = compress('avif', ['speed=10']);
put('cut.avif', avif.subarray(0, Math.floor(avif.length / 3)));
put('valid.avif', avif); // the page checks it, then lets the browser decode the AV1 data

// Sizes: no pixels, one pixel wide and 100000 tall, headers claiming 20000×20000.
put('zero-width.png', png(0, 16, 2, zeroRows(0, 16, 3)));
put('tall-1x100000.png', png(1, 100000, 0, zeroRows(1, 100000, 1)));
put('header-20000x20000.png', png(20000, 20000, 2, null));
// SOI, a frame header (SOF0, 8 bits, 20000×20000, three components) and a scan header.
const sof = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x4e, 0x20, 0x4e, 0x20, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
  0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00]);
put('header-20000x20000.jpg', sof);
const qoi = Buffer.alloc(14);
qoi.write('qoif', 0); qoi.writeUInt32BE(20000, 4); qoi.writeUInt32BE(20000, 8); qoi[12] = 3;
put('header-20000x20000.qoi', qoi);
// WebP lossless (VP8L) stores width−1 and height−1 in 14 bits each: a real file of ours with
// its header set to 16000×16000. (At 16384, the format's most, image-webp 0.2.4 reads 0: it
// computes (1 + bits) & 0x3FFF instead of (bits & 0x3FFF) + 1; refused as empty either way.)
const webp = compress('webp-lossless');
if (webp.toString('latin1', 12, 16) !== 'VP8L' || webp[20] !== 0x2f) throw new Error('unexpected WebP layout');
const vp8lBits = webp.readUInt32LE(21);
webp.writeUInt32LE(((vp8lBits & 0xf0000000) | 15999 | (15999 << 14)) >>> 0, 21);
const webpHead = Buffer.from(webp.subarray(0, 4096));
webpHead.writeUInt32LE(webpHead.length - 8, 4); // RIFF size
webpHead.writeUInt32LE(webpHead.length - 20, 16); // VP8L chunk size
put('header-16000x16000.webp', webpHead);

// Decompression bombs: 67 megapixels of zeros in 0.2 MB (refused before anything is
// allocated), and 24 megapixels (the most the lab takes: decoded, to measure its peak memory).
put('bomb-8192x8192.png', png(8192, 8192, 0, zeroRows(8192, 8192, 1)));
put('bomb-6000x4000.png', png(6000, 4000, 2, zeroRows(6000, 4000, 3)));

// Weight files: another network's, cut in half, noise (for `mpqlab quant|sweep --weights`).
const fashion = fs.readFileSync(path.join(ROOT, 'crates/models/weights/fashion_cnn.bpk'));
fs.copyFileSync(path.join(ROOT, 'crates/models/weights/cats_dogs_cnn.bpk'), path.join(OUT, 'weights-of-cats-dogs.bpk'));
put('weights-cut.bpk', fashion.subarray(0, fashion.length >> 1));
put('weights-noise.bpk', random(4096));

// Audio (the audio lab and `mpqlab eval CLIP -c CODEC`): no bytes, no samples, a WAV cut in
// its data, a header claiming ten hours, float samples that are NaN, an "MP3" of random bytes.
function wav({ rate = 16000, channels = 1, bits = 16, format = 1, dataBytes, data }) {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE((36 + dataBytes) >>> 0, 4); h.write('WAVE', 8);
  h.write('fmt ', 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(format, 20); h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * channels * bits / 8, 28); h.writeUInt16LE(channels * bits / 8, 32);
  h.writeUInt16LE(bits, 34); h.write('data', 36); h.writeUInt32LE(dataBytes >>> 0, 40);
  return Buffer.concat([h, data]);
}
const yes = fs.readFileSync(path.join(ROOT, 'www/gallery/audio/kws-yes.wav'));
put('audio-empty.wav', Buffer.alloc(0));
put('audio-no-samples.wav', wav({ dataBytes: 0, data: Buffer.alloc(0) }));
put('audio-cut.wav', yes.subarray(0, 44 + 5001));
put('audio-ten-hours.wav', wav({ dataBytes: 10 * 3600 * 16000 * 2, data: random(2000) }));
const nan = Buffer.alloc(4 * 1600);
for (let i = 0; i < 1600; i++) nan.writeFloatLE(i % 7 === 3 ? NaN : Math.sin(i / 5) * 0.5, 4 * i);
put('audio-nan.wav', wav({ bits: 32, format: 3, dataBytes: nan.length, data: nan }));
put('audio-random.mp3', random(4096));

// Found by fuzzing, kept as found (not generated): corrupt AV1 data on which rav1d 1.1 aborts
// (memorysafety/rav1d#1497; fuzz target image_load), and a 312-byte file whose first box
// claims 3 GB, and one whose `iloc` claims 4 GB, which made avif-parse reserve that much
// (avif_check).
for (const found of ['avif-corrupt-av1.avif', 'avif-box-claims-3gb.avif', 'avif-iloc-claims-4gb.avif']) {
  fs.copyFileSync(path.join(ROOT, 'tests/hostile', found), path.join(OUT, found));
}

const listing = fs.readdirSync(OUT).sort().map((f) => `${fs.statSync(path.join(OUT, f)).size}\t${f}`);
console.log(listing.join('\n'));
