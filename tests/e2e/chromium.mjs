// Debian's chromium for the browser tests (playwright-core downloads no browser of its own):
// headless, without the background services that would reach the network.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launchChromium() {
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: scripts/install-deps.sh installs chromium`);
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
