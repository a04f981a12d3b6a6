// tests/browser/web_ui.mjs — the web UI in a real browser (Debian's chromium
// driven by playwright-core), against real `crm` processes: a temp replica
// seeded through the CLI, `crm serve` on 127.0.0.1:0.
//
//   CRM_BIN=build/node/crm node tests/browser/web_ui.mjs
//
// Environment: CRM_BIN (required), CHROMIUM (default /usr/bin/chromium),
// CRM_SCREENSHOTS (a directory: save screenshots of the main screens there,
// e.g. docs/screenshots).  Ends with "N passed, M failed"; exit 1 on failure.
import {execFileSync, spawn} from 'node:child_process';
import {mkdtempSync, rmSync, mkdirSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {chromium} from 'playwright-core';

const BIN = process.env.CRM_BIN;
if (!BIN) {
	console.error('FAIL: CRM_BIN must name the crm executable');
	process.exit(1);
}
const SHOTS = process.env.CRM_SCREENSHOTS || '';
const DIR = mkdtempSync(join(tmpdir(), 'crm-browser-'));
const DATA = join(DIR, 'data');
let passed = 0, failed = 0, server = null, browser = null;

function check(cond, what, detail) {
	if (cond) {
		passed++;
		console.log(`ok - ${what}`);
	} else {
		failed++;
		console.error(`FAIL - ${what}${detail !== undefined ? ': ' + JSON.stringify(detail) : ''}`);
	}
}

function crm(...args) {
	return execFileSync(BIN, ['--data', DATA, ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
		env: {...process.env, HOME: DIR}}).trim();
}
const crmJson = (...args) => JSON.parse(crm(...args, '--json'));

/* Start `crm serve` and read the URL it prints. */
function serve(...extra) {
	return new Promise((resolve, reject) => {
		const p = spawn(BIN, ['--data', DATA, 'serve', '--listen', '127.0.0.1:0', '--quiet', ...extra],
			{stdio: ['ignore', 'pipe', 'inherit']});
		let buf = '';
		const timer = setTimeout(() => reject(new Error('crm serve printed no URL in 10 s')), 10000);
		p.stdout.on('data', (d) => {
			buf += d;
			const m = buf.match(/^(http:\/\/127\.0\.0\.1:\d+\/)$/m);
			if (m) {
				clearTimeout(timer);
				resolve({proc: p, url: m[1]});
			}
		});
		p.on('exit', (code) => reject(new Error(`crm serve exited (${code})`)));
	});
}

async function shot(page, name) {
	if (!SHOTS)
		return;
	mkdirSync(SHOTS, {recursive: true});
	await page.screenshot({path: join(SHOTS, `${name}.png`), fullPage: false});
}

/* The inbox's buttons against the CLI: a value set aside by a merge of
 * another replica's change file is put back with "Use set-aside value"; a
 * suggested duplicate is merged with "Merge", another kept apart. */
async function inbox(page, url, acme) {
	const DATA2 = join(DIR, 'data2');
	const crm2 = (...args) => execFileSync(BIN, ['--data', DATA2, ...args], {encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, HOME: DIR}}).trim();
	crm2('init', '--name', 'Branch 2', '--branch', 'SPB', '--user', 'boris');
	crm('trust', 'add', JSON.parse(crm2('whoami', '--json')).public_key, '--name', 'branch-2');
	crm2('trust', 'add', crmJson('whoami').public_key, '--name', 'branch-1');
	const ship = (from, to, file) => {
		from('export-changes', join(DIR, file));
		to('import-changes', join(DIR, file));
	};
	ship(crm, crm2, 'to2.bcf');
	crm('company', 'set', acme, 'industry=Retail');
	crm2('company', 'set', acme, 'industry=Wholesale');
	ship(crm2, crm, 'to1.bcf');
	const conflict = crmJson('conflicts').find((c) => c.row_id === acme && c.field === 'industry');
	check(conflict && conflict.lost_value && conflict.lost_value !== crmJson('company', 'show', acme).industry,
		'the CLI lists the industry set aside by the merge', conflict);
	const p1 = crm('contact', 'add', '--first', 'Olga', '--last', 'Orlova', '--phone', '+7 921 000-11-22');
	const p2 = crm('contact', 'add', '--first', 'Olga', '--last', 'Orlova-Kim', '--phone', '8 921 000 11 22');
	const k1 = crm('contact', 'add', '--first', 'Pavel', '--last', 'Zorin');
	const k2 = crm('contact', 'add', '--first', 'Pavel', '--last', 'Zorin');
	const pairOf = (a, b) => (d) => (d.id === a && d.other_id === b) || (d.id === b && d.other_id === a);
	check(crmJson('duplicates').some(pairOf(p1, p2)) && crmJson('duplicates').some(pairOf(k1, k2)),
		'the CLI suggests both pairs');

	await page.goto(url + '#/inbox');
	await page.waitForSelector('[data-list="duplicates"] table');
	await shot(page, 'inbox');
	const row = page.locator('[data-list="conflicts"] tr', {hasText: conflict ? conflict.lost_value : 'industry'});
	check((await row.textContent()).includes('Acme Trading'), 'a conflict names its record', await row.textContent());
	const dupText = await page.textContent('[data-list="duplicates"]');
	check(dupText.includes('Olga Orlova-Kim') && dupText.includes('Pavel Zorin'), 'suggested duplicates show names', dupText);
	await row.getByRole('button', {name: 'Use set-aside value'}).click();
	await page.waitForSelector('#flash:not([hidden])');
	const after = crmJson('company', 'show', acme).industry;
	check(conflict && after === conflict.lost_value, '"Use set-aside value" makes it current again', after);
	check(!crmJson('conflicts').some((c) => conflict && c.id === conflict.id), 'and the conflict leaves the inbox');

	await page.waitForSelector('[data-list="duplicates"] table');
	const dupRow = (a) => page.locator('[data-list="duplicates"] tr', {has: page.locator(`a[href$="${a}"]`)});
	await dupRow(p2).getByRole('button', {name: 'Merge'}).click();
	await page.waitForFunction((id) => !document.querySelector(`[data-list="duplicates"] a[href$="${id}"]`), p2);
	const s1 = crmJson('contact', 'show', p1).id, s2 = crmJson('contact', 'show', p2).id;
	check(s1 === s2 && s1 === [p1, p2].sort()[0], '"Merge" merges the pair (either id opens the survivor)', [s1, s2]);
	await dupRow(k2).getByRole('button', {name: 'Keep apart'}).click();
	await page.waitForFunction((id) => !document.querySelector(`[data-list="duplicates"] a[href$="${id}"]`), k2);
	check(!crmJson('duplicates').some(pairOf(k1, k2)) && crmJson('contact', 'show', k2).id === k2,
		'"Keep apart" drops the suggestion and keeps both records');
}

async function main() {
	// ---- data through the CLI, as a user would have it
	crm('init', '--name', 'Branch 1', '--branch', 'MSK', '--user', 'anna');
	const acme = crm('company', 'add', '--name', 'Acme Trading', '--tax-id', '7701234567', '--phone', '+7 495 123-45-67');
	const ivan = crm('contact', 'add', '--first', 'Ivan', '--last', 'Sidorov', '--company', acme, '--email', 'ivan@acme.ru',
		'--phone', '+7 916 555-11-22', 'birthday=1980-01-01');
	const big = crm('deal', 'add', '--title', 'Big order', '--company', acme, '--contact', ivan, '--amount', '1500.50', '--source', 'web');
	const small = crm('deal', 'add', '--title', 'Small order', '--company', acme, '--amount', '200', '--source', 'referral');
	crm('deal', 'add', '--title', 'Pilot', '--company', acme, '--amount', '300', '--stage', 'Qualified', '--source', 'web');
	crm('task', 'add', '--title', 'Send the offer', '--due', new Date().toISOString().slice(0, 10), '--contact', ivan);
	crm('activity', 'add', '--kind', 'meeting', '--subject', 'Kick-off', '--contact', ivan, '--deal', big, '--done');

	server = await serve();
	const url = server.url;
	browser = await chromium.launch({executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']});
	const page = await browser.newPage({viewport: {width: 1360, height: 860}});
	const errors = [];
	page.on('pageerror', (e) => errors.push(e.message));
	page.on('console', (m) => {
		/* the refused create above answers 400 on purpose */
		if (m.type() === 'error' && !/status of 400/.test(m.text()))
			errors.push(m.text());
	});
	page.setDefaultTimeout(10000);

	// ---- create a contact in the UI
	await page.goto(url);
	await page.waitForSelector('body[data-ready="1"]');
	await shot(page, 'home');
	const form = page.locator('form[data-form="contact"]');
	await form.locator('[name=first_name]').fill('Boris');
	await form.locator('[name=last_name]').fill('Petrov');
	await form.locator('[name=phone]').fill('8 (903) 111-22-33');
	await form.locator('[name=email]').fill('boris@example.org');
	await form.locator('[name=company_id]').selectOption(acme);
	await form.locator('button[type=submit]').click();
	await page.waitForFunction(() => document.querySelector('h1').textContent === 'Boris Petrov');
	const boris = (await page.evaluate(() => location.hash)).replace('#/contact/', '');
	const shown = crmJson('contact', 'show', boris);
	check(shown.first_name === 'Boris' && shown.last_name === 'Petrov' && shown.company_id === acme,
		'a contact created in the UI is in `crm contact show`', shown);
	check(shown.channels.some((c) => c.kind === 'phone' && c.normalized === '+79031112233'),
		'its phone was normalized by the core', shown.channels);

	// ---- a person of two companies: the link made with `crm link` is on both cards
	const bank = crm('company', 'add', '--name', 'Volga Bank');
	crm('link', 'add', '--contact', boris, '--company', bank, '--role', 'Board member');
	await page.reload();   // the card is open already: show it again with the link
	await page.waitForFunction(() => document.querySelector('h1').textContent === 'Boris Petrov');
	const fields = await page.textContent('dl.fields');
	check(fields.includes('Also works for') && fields.includes('Volga Bank (Board member)'),
		'the contact card lists the linked company with the role', fields);
	await page.goto(`${url}#/company/${bank}`);
	await page.waitForFunction(() => document.querySelector('h1').textContent === 'Volga Bank');
	const people = await page.textContent('#main');
	check(people.includes('Boris Petrov') && people.includes('Board member'), 'the company card lists the linked person', people);

	// ---- a bad e-mail is refused with the core's message, nothing created
	const before = crmJson('contact', 'list').length;
	await page.goto(url + '#/');
	await page.waitForSelector('form[data-form="contact"]');
	await page.locator('form[data-form="contact"] [name=first_name]').fill('Nobody');
	await page.locator('form[data-form="contact"] [name=email]').fill('not-an-email');
	await page.locator('form[data-form="contact"] button[type=submit]').click();
	await page.waitForSelector('#flash.bad:not([hidden])');
	check((await page.textContent('#flash')).includes('e-mail'), 'a bad e-mail shows the validation message',
		await page.textContent('#flash'));
	check(crmJson('contact', 'list').length === before, 'a refused create changes nothing');

	// ---- log a call on the card
	await page.goto(`${url}#/contact/${boris}`);
	const qa = page.locator('form[data-form="quick-add"]');
	await qa.locator('[name=kind]').selectOption('call');
	await qa.locator('[name=subject]').fill('Discussed the price list');
	await qa.locator('button[type=submit]').click();
	await page.waitForSelector('ul.timeline li[data-kind="call"]');
	check((await page.textContent('ul.timeline')).includes('Discussed the price list'), 'the call is on the card timeline');
	const tl = crmJson('contact', 'show', boris).timeline;
	check(tl.some((t) => t.kind === 'call' && t.title === 'Discussed the price list' && t.done === 1),
		'`crm contact show` has the call, done', tl);
	await shot(page, 'contact-card');

	// ---- search by phone typed differently (stored as +7 903 111-22-33)
	await page.goto(url + '#/board');
	await page.waitForSelector('.board');
	await page.keyboard.press('/');
	check(await page.evaluate(() => document.activeElement.id === 'q'), '"/" focuses the search box');
	await page.keyboard.type('903 111 2233');
	await page.waitForSelector('#results li.sel');
	check((await page.textContent('#results')).includes('Boris Petrov'), 'search by phone digits finds the contact',
		await page.textContent('#results'));
	await page.keyboard.press('Enter');
	await page.waitForFunction(() => document.querySelector('h1').textContent === 'Boris Petrov');
	check(true, 'Enter opens the found card');
	await page.fill('#q', '+7(916)5551122');
	await page.waitForFunction(() => document.querySelector('#results').textContent.includes('Ivan Sidorov'));
	check(true, 'search by a phone in another format finds Ivan');
	await page.keyboard.press('Escape');

	// ---- kanban: drag a deal to another stage, survive a reload, visible in the CLI
	await page.goto(url + '#/board');
	await page.waitForSelector(`article[data-deal="${big}"]`);
	await shot(page, 'kanban');
	await page.dragAndDrop(`article[data-deal="${big}"]`, 'section.column[data-stage="Proposal"]');
	await page.waitForSelector(`section.column[data-stage="Proposal"] article[data-deal="${big}"]`);
	check(true, 'the dragged deal shows in the Proposal column');
	await page.reload();
	await page.waitForSelector(`section.column[data-stage="Proposal"] article[data-deal="${big}"]`);
	check(true, 'and is still there after a reload');
	const deal = crmJson('deal', 'show', big);
	check(deal.stage === 'Proposal', '`crm deal show` has the new stage', deal.stage);
	check(deal.stage_history.some((x) => x.from_stage === 'New' && x.to_stage === 'Proposal'),
		'the move is in the stage history', deal.stage_history);

	// ---- lost with a loss reason
	await page.dragAndDrop(`article[data-deal="${small}"]`, 'section.column[data-stage="Lost"]');
	await page.waitForSelector('dialog#ask[open]');
	await page.fill('#ask-input', 'too expensive');
	await page.click('#ask-ok');
	await page.waitForSelector(`section.column[data-stage="Lost"] article[data-deal="${small}"]`);
	const lost = crmJson('deal', 'show', small);
	check(lost.stage === 'Lost' && lost.lost_reason === 'too expensive', 'lost with the reason typed in the prompt',
		{stage: lost.stage, reason: lost.lost_reason});

	// ---- the kanban figures are `crm report funnel --json`'s
	const funnel = crmJson('report', 'funnel');
	for (const s of funnel.stages) {
		const txt = await page.textContent(`section.column[data-stage="${s.stage}"] .ccount`);
		check(txt === `(${s.count})`, `kanban count of ${s.stage} equals crm report funnel`, {page: txt, report: s.count});
		const tot = await page.textContent(`section.column[data-stage="${s.stage}"] .ctotal`);
		check(tot === (s.amount_text || '—'), `kanban total of ${s.stage} equals crm report funnel`, {page: tot, report: s.amount_text});
	}

	// ---- the dashboard shows the same funnel
	await page.goto(url + '#/dashboard?from=&to=');
	await page.waitForSelector('[data-report="funnel-bars"]');
	const funnelAll = crmJson('report', 'funnel');
	for (const s of funnelAll.stages) {
		const row = `[data-report="funnel-bars"] tr[data-stage="${s.stage}"]`;
		const reached = await page.textContent(`${row} td:nth-child(2)`);
		const conv = await page.textContent(`${row} td:nth-child(4)`);
		check(reached === String(s.reached) && conv === (s.conversion === null ? '' : `${s.conversion}%`),
			`dashboard funnel "${s.stage}" reached and conversion equal crm report funnel`,
			{page: [reached, conv], report: [s.reached, s.conversion]});
	}
	// every panel loads its report (each is its own request) without an error
	await page.waitForFunction(() => !document.querySelector('[data-loading]'), null, {timeout: 20000});
	const panels = await page.$$eval('.panel[data-report]', (els) => els.map((e) => e.dataset.report));
	check(['funnel', 'plan', 'forecast', 'overdue', 'losses', 'sources', 'stages'].every((n) => panels.includes(n)),
		'dashboard shows all seven reports', panels);
	const lossText = await page.textContent('.panel[data-report="losses"]');
	const losses = crmJson('report', 'losses');
	check(losses.reasons.length > 0 && losses.reasons.every((r) => lossText.includes(r.reason) && lossText.includes(r.amount_text)),
		'dashboard loss reasons equal crm report losses', {page: lossText, report: losses.reasons});
	await shot(page, 'dashboard');

	// ---- tasks, inbox, sync screens render
	await page.goto(url + '#/tasks');
	await page.waitForSelector('[data-list="today"]');
	check((await page.textContent('[data-list="today"]')).includes('Send the offer'), 'today\'s task is listed');
	await shot(page, 'tasks');
	await inbox(page, url, acme);
	await page.goto(url + '#/sync');
	await page.waitForFunction(() => document.querySelector('h1').textContent === 'Sync');
	check((await page.textContent('main')).includes('Pending changes'), 'the sync screen shows pending changes');
	check(errors.length === 0, 'no script errors or failed loads in the page', errors);
}

try {
	await main();
} catch (e) {
	failed++;
	console.error(`FAIL - ${e.stack || e}`);
} finally {
	if (browser)
		await browser.close();
	if (server) {
		const exited = new Promise((resolve) => server.proc.once('exit', (code, sig) => resolve(code ?? sig)));
		server.proc.kill('SIGTERM');
		const code = await exited;
		check(code === 0, 'crm serve exits 0 on SIGTERM (no sanitizer report)', code);
	}
	rmSync(DIR, {recursive: true, force: true});
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
