// Opening the unit gallery on a 5,000-unit layer: the built server (`artiphys serve`) on a
// fixture project written by the real ProjectDb, Debian's Chromium driving the real renderer.
// Measured in the page, from the click on the Gallery tab to every card in view drawn with all
// its thumbnails decoded; each try starts from a fresh page (no cached images). Goal: < 1 s.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { createGalleryProject } from '../fixtures/gallery-project';
import { median } from '../../src/shared/math/stats';
import type { BenchModule } from './run';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.ARTIPHYS_CHROMIUM ?? '/usr/bin/chromium';
const UNITS = 5000;
const TRIES = 5;

/** Starts the built server on `project` and resolves with its URL (token included). */
function serve(project: string, home: string): Promise<{ url: string; stop: () => void }> {
  const cli = path.join(ROOT, 'out/main/cli.js');
  if (!fs.existsSync(cli)) throw new Error('out/main/cli.js is missing: run "npm run build" before this bench');
  const child = spawn(process.execPath, [cli, 'serve', '--project', project, '--port', '0', '--json'], {
    cwd: ROOT,
    env: { ...process.env, ARTIPHYS_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`artiphys serve printed no URL in 60 s: ${out}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const url = out.match(/"url"\s*:\s*"(http:\/\/[^"]+)"/)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, stop: () => child.kill('SIGTERM') });
      }
    });
    child.once('exit', (code) => reject(new Error(`artiphys serve exited (${code}): ${out}`)));
  });
}

/**
 * In-page script (a string: this file is typed for Node, not the DOM): clicks the Gallery tab
 * and resolves with the ms until the grid holds every unit and each card in view shows all its
 * thumbnails decoded. Polled every animation frame.
 */
function openAndWait(units: number): string {
  return `new Promise((resolve, reject) => {
    const tab = document.querySelector('[data-testid="tab-gallery"]');
    if (!tab) return reject(new Error('no Gallery tab'));
    const t0 = performance.now();
    tab.click();
    const ready = () => {
      const grid = document.querySelector('[data-testid="unit-grid"]');
      if (!grid || grid.getAttribute('data-count') !== '${units}') return false;
      const box = grid.getBoundingClientRect();
      const inView = [...grid.querySelectorAll('[data-testid="unit-card"]')].filter((c) => {
        const r = c.getBoundingClientRect();
        return r.bottom > box.top && r.top < box.bottom;
      });
      return inView.length > 0 && inView.every((c) => {
        const imgs = [...c.querySelectorAll('img')];
        return imgs.length === c.querySelectorAll('.frame').length && imgs.every((img) => img.complete && img.naturalWidth > 0);
      });
    };
    const poll = () => (ready() ? resolve(performance.now() - t0) : requestAnimationFrame(poll));
    poll();
  })`;
}

const bench: BenchModule = {
  title: `unit gallery: open a ${UNITS.toLocaleString('en')}-unit layer, click to every visible card drawn with its images`,
  async run(report) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artiphys-gallery-bench-'));
    const fixture = createGalleryProject(path.join(dir, 'gallery.artiphys'), { units: UNITS });
    const server = await serve(fixture.file, dir);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      // The server's share: the query the gallery makes, over HTTP.
      const served = new URL(server.url);
      const queryMs: number[] = [];
      for (let i = 0; i < TRIES; i++) {
        const t0 = performance.now();
        const res = await fetch(`${served.origin}/api/call`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${served.searchParams.get('token')}` },
          body: JSON.stringify({ method: 'gallery.query', params: { modelId: fixture.modelId, layer: fixture.layer } }),
        });
        const answer = (await res.json()) as { ok: boolean; result?: { cards: unknown[] } };
        if (!answer.ok || answer.result?.cards.length !== UNITS) throw new Error(`gallery.query did not answer ${UNITS} cards`);
        queryMs.push(performance.now() - t0);
      }

      const openMs: number[] = [];
      const imageCalls: number[] = [];
      const imageCounts: number[] = [];
      for (let i = 0; i < TRIES; i++) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
        let calls = 0;
        let images = 0;
        page.on('request', (req) => {
          if (!req.url().endsWith('/api/call')) return;
          const body = JSON.parse(req.postData() ?? '{}') as { method?: string; params?: { imageIds?: number[] } };
          if (body.method === 'images.get' || body.method === 'images.getMany') {
            calls += 1;
            images += body.method === 'images.get' ? 1 : body.params!.imageIds!.length;
          }
        });
        await page.goto(server.url);
        await page.locator('.shell[data-ready="true"]').waitFor();
        const ms = (await page.evaluate(openAndWait(UNITS))) as number;
        openMs.push(ms);
        imageCalls.push(calls);
        imageCounts.push(images);
        await page.close();
      }
      report('gallery.query over HTTP, 5,000 cards (median of 5)', median(queryMs)!, 'ms');
      report('click Gallery → visible cards drawn with images (median of 5)', median(openMs)!, 'ms');
      report('  slowest of 5', Math.max(...openMs), 'ms');
      report('  image calls when opened (median)', median(imageCalls)!, 'requests');
      report('  images fetched when opened (median)', median(imageCounts)!, 'images');
    } finally {
      await browser.close();
      server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
