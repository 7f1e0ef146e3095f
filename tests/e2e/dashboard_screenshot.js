// A screenshot of the dashboard page that tests/monitoring/test_dashboard.py draws from
// Prometheus's answers: Debian's Chromium driven by playwright-core, as admin_browser.js does.
// The page must be self-contained: any request other than the page itself is refused and fails
// the run, as does a script error.
//   node dashboard_screenshot.js PAGE.html OUT.png WIDTH
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');

(async () => {
  const [pageFile, out, width] = process.argv.slice(2);
  const url = 'file://' + path.resolve(pageFile);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: Number(width), height: 800 }, deviceScaleFactor: 1 });
    const problems = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.route('**/*', (route) => {
      if (route.request().url() === url) return route.continue();
      problems.push('request for ' + route.request().url());
      return route.abort();
    });
    await page.goto(url);
    const size = await page.evaluate(() => [document.documentElement.scrollWidth, document.body.scrollHeight]);
    if (size[0] > Number(width)) problems.push('the page is wider than the viewport: ' + size[0]);
    await page.screenshot({ path: out, fullPage: true });
    if (problems.length) throw new Error(problems.join('\n'));
    console.log('screenshot %s: %dx%d', out, size[0], size[1]);
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
