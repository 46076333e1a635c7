// Writes the fuzz targets' seed corpora into fuzz/seeds/<target>/ (committed; small valid
// inputs of every format, so the fuzzer starts inside each format instead of at its magic).
//   MPQLAB_BIN=target/debug/mpqlab node fuzz/make-seeds.mjs
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SEEDS = path.join(ROOT, 'fuzz/seeds');
const CLI = process.env.MPQLAB_BIN;
if (!CLI) throw new Error('MPQLAB_BIN must name the mpqlab binary');
fs.rmSync(SEEDS, { recursive: true, force: true });
const put = (target, name, bytes) => {
  fs.mkdirSync(path.join(SEEDS, target), { recursive: true });
  fs.writeFileSync(path.join(SEEDS, target, name), bytes);
};

// A 24×16 RGB picture (a gradient), and a 24×16 RGBA one with transparency, as PNG.
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}
function png(w, h, channels) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = channels === 4 ? 6 : 2;
  const rows = Buffer.alloc((1 + w * channels) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = y * (1 + w * channels) + 1 + x * channels;
    rows[o] = x * 10; rows[o + 1] = y * 15; rows[o + 2] = (x * y) & 255;
    if (channels === 4) rows[o + 3] = x < 12 ? 255 : 100;
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
const tmp = fs.mkdtempSync(path.join(ROOT, 'fuzz/.seeds-'));
const src = path.join(tmp, 'src.png');
fs.writeFileSync(src, png(24, 16, 3));
fs.writeFileSync(path.join(tmp, 'alpha.png'), png(24, 16, 4));
const files = { 'rgb.png': fs.readFileSync(src), 'rgba.png': fs.readFileSync(path.join(tmp, 'alpha.png')) };
for (const [codec, ext, params] of [['jpeg', 'jpg', ['quality=50']], ['jpeg', '444.jpg', ['subsampling=4:4:4']],
  ['webp-lossless', 'webp', []], ['qoi', 'qoi', []], ['avif', 'avif', ['speed=10']], ['png', '9.png', ['level=9']]]) {
  const out = path.join(tmp, `out.${ext}`);
  execFileSync(CLI, ['compress', src, '-c', codec, ...params.flatMap((p) => ['-p', p]), '-o', out], { stdio: 'ignore' });
  files[`small.${ext}`] = fs.readFileSync(out);
}
// Audio: 16-bit PCM WAVs (0.1 s of a tone: mono at 8 kHz, stereo at 16 kHz) and our audio
// codecs' output of the mono one.
function wav16(rate, channels, frames) {
  const data = Buffer.alloc(frames * channels * 2);
  for (let i = 0; i < frames * channels; i++) data.writeInt16LE(Math.round(8000 * Math.sin(i * 0.05 * (1 + (i % channels)))), 2 * i);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVEfmt ', 8); h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); h.writeUInt16LE(channels, 22); h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
const audio = { 'mono8k.wav': wav16(8000, 1, 800), 'stereo16k.wav': wav16(16000, 2, 1600) };
fs.writeFileSync(path.join(tmp, 'mono8k.wav'), audio['mono8k.wav']);
for (const codec of ['mulaw', 'alaw', 'ima-adpcm', 'flac', 'opus', 'bandlimit', 'mdct']) {
  const name = `${codec}.${{ flac: 'flac', opus: 'opus', mdct: 'mpqm' }[codec] ?? 'wav'}`;
  execFileSync(CLI, ['compress', path.join(tmp, 'mono8k.wav'), '-c', codec, '-o', path.join(tmp, name)], { stdio: 'ignore' });
  audio[name] = fs.readFileSync(path.join(tmp, name));
}
for (const [name, bytes] of Object.entries(audio)) put('audio_load', name, bytes);
fs.rmSync(tmp, { recursive: true });

// The codecs in registry order (codec_decode's first byte picks one).
const codecs = JSON.parse(execFileSync(CLI, ['codecs'])).map((c) => c.id);
const byCodec = { jpeg: 'small.jpg', avif: 'small.avif', 'webp-lossless': 'small.webp', 'webp-ll-down': 'small.webp', png: 'small.9.png', qoi: 'small.qoi',
  mulaw: 'mulaw.wav', alaw: 'alaw.wav', 'ima-adpcm': 'ima-adpcm.wav', flac: 'flac.flac', opus: 'opus.opus', bandlimit: 'bandlimit.wav', mdct: 'mdct.mpqm' };
for (const [name, bytes] of Object.entries(files)) put('image_load', name, bytes);
codecs.forEach((id, k) => put('codec_decode', `${k}-${id}`, Buffer.concat([Buffer.from([k]), (files[byCodec[id]] ?? audio[byCodec[id]])])));
put('avif_check', 'small.avif', files['small.avif']);
// Links: every committed link.
JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/links/v1.json'), 'utf8')).forEach((l, k) => put('link_parse', `v1-${k}`, Buffer.from(l.link)));
// Weights: each bundled file, with the byte that picks its model (fashion-cnn, fashion-cnn-jpeg, cats-dogs-cnn).
put('weights_load', 'fashion', Buffer.concat([Buffer.from([0]), fs.readFileSync(path.join(ROOT, 'crates/models/weights/fashion_cnn.bpk'))]));
put('weights_load', 'cats-dogs', Buffer.concat([Buffer.from([2]), fs.readFileSync(path.join(ROOT, 'crates/models/weights/cats_dogs_cnn.bpk'))]));
// Our own binary formats (the lossless weight stream, test subsets), written by mpq-models.
execFileSync('cargo', ['run', '-q', '-p', 'mpq-models', '--example', 'fuzz_seeds', '--', SEEDS], { cwd: ROOT, stdio: 'inherit' });
const listing = [];
for (const t of fs.readdirSync(SEEDS)) for (const f of fs.readdirSync(path.join(SEEDS, t))) listing.push(`${t}/${f} ${fs.statSync(path.join(SEEDS, t, f)).size}`);
console.log(listing.join('\n'));
