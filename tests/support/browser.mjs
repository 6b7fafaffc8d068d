// Headless Debian Chromium driven by playwright-core (never `playwright install`). Playwright
// gives every launch a fresh, empty profile directory.

import { chromium } from 'playwright-core';

export const PHONE = {
  viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true,
};
export const DESKTOP = { viewport: { width: 1280, height: 800 } };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.PAYDESK_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
