// Shared by the browser tests: where things are, and a headless Chromium (Debian's, never a
// downloaded one) with WebGPU on (SwiftShader in a headless machine without a GPU).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const OUT = path.join(ROOT, 'tests/out');
export const URL_ = process.env.MPQ_URL;
export const CLI = process.env.MPQLAB_BIN;
export const BROWSER = process.env.MPQ_CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(OUT, { recursive: true });

/** A fresh Chromium profile and page; console errors and page errors are collected. */
export async function launch({ webgpu = true, viewport = { width: 1400, height: 1000 } } = {}) {
  assert.ok(URL_, 'MPQ_URL must point at the served dist/');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mpq-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: BROWSER,
    headless: true,
    acceptDownloads: true,
    viewport,
    args: ['--headless', '--no-sandbox', webgpu ? '--enable-unsafe-webgpu' : '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  context.on('weberror', (e) => consoleErrors.push(`web error: ${e.error().message}`));
  return { context, page, consoleErrors };
}

/** Runs the native `mpqlab` (MPQLAB_BIN) and returns its stdout as text. */
export function cli(...args) {
  return cliBytes(...args).toString('utf8');
}

/** Runs the native `mpqlab` (MPQLAB_BIN) and returns its stdout as bytes. */
export function cliBytes(...args) {
  assert.ok(CLI, 'MPQLAB_BIN must name the mpqlab binary');
  return execFileSync(CLI, args, { cwd: ROOT, encoding: 'buffer', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}
