/*
 * app.js — the Branchline web UI: plain JavaScript, no framework, no build.
 * Every figure on a page comes from the JSON API (docs/API.md); this file
 * only lays data out.  Text is always inserted as text (never as HTML).
 */
'use strict';

const $ = (sel, root) => (root || document).querySelector(sel);
let INFO = {};                       /* GET /api/info */

/* ------------------------------------------------------------ helpers ---- */

function h(tag, attrs, ...kids) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k.startsWith('on'))
			el.addEventListener(k.slice(2), v);
		else if (k === 'style')
			Object.assign(el.style, v);     /* CSSOM: allowed by the page's CSP */
		else if (k === 'class')
			el.className = v;
		else
			el.setAttribute(k, v === true ? '' : v);
	}
	for (const kid of kids.flat(Infinity)) {
		if (kid === null || kid === undefined || kid === false)
			continue;
		el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
	}
	return el;
}

async function api(method, path, body) {
	const opt = {method, headers: {}};
	if (method !== 'GET') {
		opt.headers['Content-Type'] = 'application/json';
		opt.body = JSON.stringify(body || {});
	}
	const res = await fetch('/api/' + path, opt);
	let doc = null;
	try {
		doc = await res.json();
	} catch (e) {
		throw new Error(`${method} ${path}: HTTP ${res.status}`);
	}
	if (!res.ok)
		throw new Error(doc && doc.error ? doc.error : `HTTP ${res.status}`);
	return doc;
}

let flashTimer = 0;
function flash(msg, bad) {
	const f = $('#flash');
	f.textContent = msg;
	f.className = bad ? 'bad' : '';
	f.hidden = false;
	clearTimeout(flashTimer);
	flashTimer = setTimeout(() => { f.hidden = true; }, bad ? 6000 : 2500);
}

/* Run an async action; show its error as a flash.  Returns its result or null. */
async function attempt(fn) {
	try {
		return await fn();
	} catch (e) {
		flash(e.message, true);
		return null;
	}
}

/* A small modal prompt (the loss reason); resolves to the text or null. */
function ask(text, placeholder) {
	const d = $('#ask'), input = $('#ask-input');
	$('#ask-text').textContent = text;
	input.value = '';
	input.placeholder = placeholder || '';
	return new Promise((resolve) => {
		const done = (v) => { d.close(); resolve(v); };
		$('#ask-cancel').onclick = () => done(null);
		d.onsubmit = (ev) => { ev.preventDefault(); done(input.value.trim() || null); };
		d.oncancel = () => resolve(null);
		d.showModal();
		input.focus();
	});
}

const enc = encodeURIComponent;
const fullName = (p) => [p.first_name, p.last_name].filter(Boolean).join(' ') || '(no name)';
/* Money as the server formatted it; lists give "1500.50" + currency, reports
 * give "1500.50 RUB; 10.00 EUR" already. */
const money = (text, cur) => !text ? '' : (!cur || /[A-Z]{3}$/.test(text)) ? text : `${text} ${cur}`;
const day = (iso) => iso ? String(iso).replace('T', ' ').replace(/:\d\dZ$/, '').replace(/Z$/, '') : '';
const link = (entity, id, text) => h('a', {href: `#/${entity}/${id}`}, text || id);

/* Form values as a JSON object; empty inputs are left out. */
function formData(form) {
	const o = {};
	for (const el of form.elements) {
		if (!el.name)
			continue;
		if (el.type === 'checkbox')
			o[el.name] = el.checked;
		else if (el.value.trim() !== '')
			o[el.name] = el.type === 'datetime-local' ? new Date(el.value).toISOString() : el.value.trim();
	}
	return o;
}

function table(rows, cols) {
	return h('table', {}, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {class: c.num ? 'num' : null}, c.label)))),
		 h('tbody', {}, rows.map((r) => h('tr', {}, cols.map((c) => h('td', {class: c.num ? 'num' : null}, c.get(r)))))));
}

function view(title, ...kids) {
	const m = $('#main');
	m.replaceChildren(h('h1', {}, title), ...kids);
	document.title = `${title} — Branchline`;
}

/* --------------------------------------------------------------- search -- */

const search = {sel: -1, items: [], seq: 0, timer: 0};

function searchRender() {
	const ol = $('#results');
	ol.replaceChildren(...search.items.map((r, i) =>
		h('li', {role: 'option', class: i === search.sel ? 'sel' : null, 'aria-selected': i === search.sel ? 'true' : null,
			 onmousedown: (ev) => { ev.preventDefault(); searchOpen(i); }},
		  h('span', {class: 'kind'}, r.entity), h('span', {class: 'title'}, r.title || '(no name)'),
		  h('span', {class: 'detail'}, r.detail || ''))));
	if (!search.items.length && $('#q').value.trim())
		ol.replaceChildren(h('li', {class: 'muted'}, 'Nothing found'));
	ol.hidden = !$('#q').value.trim();
}

async function searchRun() {
	const q = $('#q').value.trim();
	const seq = ++search.seq;
	if (!q) {
		search.items = [];
		searchRender();
		return;
	}
	try {
		const items = await api('GET', `search?q=${enc(q)}&limit=15`);
		if (seq !== search.seq)
			return;          /* a later keystroke already asked again */
		search.items = items;
		search.sel = items.length ? 0 : -1;
	} catch (e) {
		search.items = [];
	}
	searchRender();
}

function searchOpen(i) {
	const r = search.items[i];
	if (!r)
		return;
	$('#q').value = '';
	search.items = [];
	searchRender();
	location.hash = `#/${r.entity}/${r.id}`;
	$('#main').focus();
}

function searchInit() {
	const q = $('#q');
	q.addEventListener('input', () => {
		clearTimeout(search.timer);
		search.timer = setTimeout(searchRun, 60);
	});
	q.addEventListener('keydown', (ev) => {
		if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
			ev.preventDefault();
			const n = search.items.length;
			if (n)
				search.sel = (search.sel + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n;
			searchRender();
		} else if (ev.key === 'Enter') {
			ev.preventDefault();
			clearTimeout(search.timer);
			if (search.items.length)
				searchOpen(Math.max(search.sel, 0));
			else
				searchRun().then(() => searchOpen(0));
		} else if (ev.key === 'Escape') {
			q.value = '';
			search.items = [];
			searchRender();
			q.blur();
		}
	});
	q.addEventListener('blur', () => setTimeout(() => { $('#results').hidden = true; }, 150));
	document.addEventListener('keydown', (ev) => {
		const t = ev.target;
		const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
		if (ev.key === '/' && !typing && !ev.ctrlKey && !ev.metaKey) {
			ev.preventDefault();
			q.focus();
			q.select();
		}
	});
}

/* ----------------------------------------------------------------- home -- */

/* A fresh list of <option>s for a company picker (built anew for every select). */
function companyOptions(cs) {
	return [h('option', {value: ''}, '— company —'), cs.map((c) => h('option', {value: c.id}, c.name))];
}

function createForm(entity, title, fields, after) {
	const form = h('form', {class: 'inline write', 'data-form': entity,
		onsubmit: async (ev) => {
			ev.preventDefault();
			const made = await attempt(() => api('POST', `records/${entity}`, formData(form)));
			if (made) {
				flash(`${title} created`);
				(after || ((id) => { location.hash = `#/${entity}/${id}`; }))(made.id);
			}
		}}, fields, h('button', {type: 'submit'}, 'Create'));
	return h('div', {class: 'panel write'}, h('h2', {}, `New ${title.toLowerCase()}`), form);
}

async function viewHome() {
	const [contacts, companies, deals] = await Promise.all([api('GET', 'records/contact?limit=15'),
		api('GET', 'records/company?limit=15'), api('GET', 'records/deal?limit=15')]);
	const cs = await api('GET', 'records/company?limit=1000');
	view(`Welcome${INFO.user ? ', ' + INFO.user : ''}`,
		h('p', {class: 'muted'}, 'Press ', h('span', {class: 'kbd'}, '/'), ' to search by name, e-mail or phone (typed any way), ',
		  h('span', {class: 'kbd'}, 'Enter'), ' to open.'),
		h('div', {class: 'row'},
		  h('div', {class: 'col'},
		    createForm('contact', 'Contact', [
			h('input', {name: 'first_name', placeholder: 'First name', required: true, 'aria-label': 'First name'}),
			h('input', {name: 'last_name', placeholder: 'Last name', 'aria-label': 'Last name'}),
			h('input', {name: 'email', placeholder: 'E-mail', 'aria-label': 'E-mail'}),
			h('input', {name: 'phone', placeholder: 'Phone', 'aria-label': 'Phone'}),
			h('select', {name: 'company_id', 'aria-label': 'Company'}, companyOptions(cs))]),
		    createForm('company', 'Company', [
			h('input', {name: 'name', placeholder: 'Name', required: true, 'aria-label': 'Company name'}),
			h('input', {name: 'tax_id', placeholder: 'Tax id', 'aria-label': 'Tax id'}),
			h('input', {name: 'phone', placeholder: 'Phone', 'aria-label': 'Phone'})]),
		    createForm('deal', 'Deal', [
			h('input', {name: 'title', placeholder: 'Title', required: true, 'aria-label': 'Deal title'}),
			h('input', {name: 'amount', placeholder: 'Amount', inputmode: 'decimal', 'aria-label': 'Amount'}),
			h('input', {name: 'currency', placeholder: INFO.currency || 'RUB', size: 4, 'aria-label': 'Currency'}),
			h('input', {name: 'source', placeholder: 'Source', 'aria-label': 'Lead source'}),
			h('select', {name: 'company_id', 'aria-label': 'Company'}, companyOptions(cs))])),
		  h('div', {class: 'col'},
		    h('div', {class: 'panel'}, h('h2', {}, 'Recent contacts'),
		      table(contacts, [{label: 'Name', get: (r) => link('contact', r.id, fullName(r))},
			  {label: 'Company', get: (r) => r.company_id ? link('company', r.company_id, r.company) : ''},
			  {label: 'Phone', get: (r) => r.phone || ''}, {label: 'E-mail', get: (r) => r.email || ''}])),
		    h('div', {class: 'panel'}, h('h2', {}, 'Recent companies'),
		      table(companies, [{label: 'Name', get: (r) => link('company', r.id, r.name)},
			  {label: 'Phone', get: (r) => r.phone || ''}, {label: 'Tax id', get: (r) => r.tax_id || ''}])),
		    h('div', {class: 'panel'}, h('h2', {}, 'Recent deals'),
		      table(deals, [{label: 'Deal', get: (r) => link('deal', r.id, r.title)},
			  {label: 'Stage', get: (r) => h('span', {class: `tag ${r.stage_kind || ''}`}, r.stage || '')},
			  {label: 'Amount', num: true, get: (r) => money(r.amount_text, r.currency)}])))));
}

/* ---------------------------------------------------------------- cards -- */

const EDITABLE = {
	contact: [['first_name', 'First name'], ['last_name', 'Last name'], ['title', 'Job title'], ['birthday', 'Birthday', 'date']],
	company: [['name', 'Name'], ['tax_id', 'Tax id'], ['industry', 'Industry'], ['website', 'Website'], ['address', 'Address']],
	deal: [['title', 'Title'], ['amount', 'Amount'], ['probability', 'Probability %'], ['expected_close', 'Expected close', 'date'], ['source', 'Source']],
};

function editPanel(entity, rec, reload) {
	const fields = EDITABLE[entity];
	const form = h('form', {class: 'inline', hidden: true,
		onsubmit: async (ev) => {
			ev.preventDefault();
			const body = {};
			for (const [name] of fields) {
				const el = form.elements[name];
				const old = rec[name] === null || rec[name] === undefined ? '' : String(name === 'amount' ? rec.amount_text || '' : rec[name]);
				if (el.value !== old)
					body[name] = el.value;
			}
			if (!Object.keys(body).length)
				return flash('Nothing changed');
			if (await attempt(() => api('PATCH', `records/${entity}/${rec.id}`, body))) {
				flash('Saved');
				reload();
			}
		}},
		fields.map(([name, label, type]) => h('label', {}, label + ' ',
			h('input', {name, type: type || 'text', value: name === 'amount' ? rec.amount_text || '' : rec[name] ?? ''}))),
		h('button', {type: 'submit'}, 'Save'));
	const toggle = h('button', {class: 'plain write', type: 'button', onclick: () => { form.hidden = !form.hidden; }}, 'Edit');
	const del = h('button', {class: 'danger write', type: 'button', onclick: async () => {
		if (!confirm(`Delete this ${entity}? (It can be restored with crm ${entity} restore.)`))
			return;
		if (await attempt(() => api('DELETE', `records/${entity}/${rec.id}`)))
			location.hash = '#/';
	}}, 'Delete');
	return h('div', {}, h('div', {class: 'inline'}, toggle, ' ', del), form);
}

function fieldList(pairs) {
	return h('dl', {class: 'fields'}, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
		.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function timeline(items) {
	if (!items.length)
		return h('p', {class: 'muted'}, 'Nothing yet.');
	return h('ul', {class: 'timeline'}, items.map((t) => h('li', {'data-kind': t.kind},
		h('span', {class: 'when'}, day(t.at)), h('span', {class: 'k'}, h('span', {class: 'tag'}, t.kind)),
		h('span', {}, t.title || ''), t.kind === 'task' ? h('span', {class: 'muted'}, ` (${t.result || 'open'})`) : null,
		t.kind !== 'task' && t.kind !== 'stage' && t.kind !== 'note' && !t.done ? h('span', {class: 'tag warn'}, 'planned') : null)));
}

/* Quick-add of a call, meeting, e-mail, note or task linked to the record. */
function quickAdd(links, reload) {
	const kind = h('select', {name: 'kind', 'aria-label': 'What'}, ['call', 'meeting', 'email', 'note', 'task']
		.map((k) => h('option', {value: k}, k)));
	const subject = h('input', {name: 'subject', placeholder: 'Subject / text', required: true, size: 30, 'aria-label': 'Subject'});
	const when = h('input', {name: 'when', type: 'datetime-local', 'aria-label': 'When (or due)'});
	const done = h('input', {name: 'done', type: 'checkbox', checked: true, 'aria-label': 'Done'});
	const form = h('form', {class: 'inline', 'data-form': 'quick-add', onsubmit: async (ev) => {
		ev.preventDefault();
		const k = kind.value, at = when.value ? new Date(when.value).toISOString() : null;
		let entity, body;
		if (k === 'note') {
			entity = 'note';
			body = {body: subject.value};
		} else if (k === 'task') {
			entity = 'task';
			body = {title: subject.value};
			if (at)
				body.due = at;
		} else {
			entity = 'activity';
			body = {kind: k, subject: subject.value, done: done.checked};
			if (at)
				body.at = at;
		}
		if (await attempt(() => api('POST', `records/${entity}`, Object.assign(body, links)))) {
			flash(`${k} logged`);
			reload();
		}
	}}, kind, subject, when, h('label', {}, done, ' done'), h('button', {type: 'submit'}, 'Add'));
	return h('div', {class: 'panel write'}, h('h2', {}, 'Log a call, meeting, note or task'), form);
}

function nextContact(entity, rec, reload) {
	const input = h('input', {type: 'date', value: rec.next_contact || '', 'aria-label': 'Next contact date'});
	return h('form', {class: 'inline', onsubmit: async (ev) => {
		ev.preventDefault();
		if (await attempt(() => api('PATCH', `records/${entity}/${rec.id}`, {next_contact: input.value}))) {
			flash('Next contact date saved');
			reload();
		}
	}}, 'Next contact: ', input, h('button', {type: 'submit', class: 'plain write'}, 'Set'));
}

function dealsTable(deals) {
	if (!deals.length)
		return h('p', {class: 'muted'}, 'No deals.');
	return table(deals, [{label: 'Deal', get: (r) => link('deal', r.id, r.title)},
		{label: 'Stage', get: (r) => h('span', {class: `tag ${r.stage_kind || ''}`}, r.stage || '')},
		{label: 'Amount', num: true, get: (r) => money(r.amount_text, r.currency)}]);
}

async function viewContact(id) {
	const reload = () => route();
	const c = await api('GET', `records/contact/${enc(id)}`);
	view(fullName(c),
		h('div', {class: 'row'},
		  h('div', {class: 'col'},
		    h('div', {class: 'panel'}, fieldList([['Job title', c.title],
			['Company', c.company_id ? link('company', c.company_id, c.company) : ''],
			['Also works for', (c.companies || []).length ? c.companies.map((x, i) =>
				[i ? ', ' : '', link('company', x.id, x.name), x.role ? ` (${x.role})` : '']).flat() : ''],
			['Birthday', c.birthday], ['Created', day(c.created_at)]]), nextContact('contact', c, reload), editPanel('contact', c, reload)),
		    h('div', {class: 'panel'}, h('h2', {}, 'Channels'),
		      c.channels.length ? table(c.channels, [{label: 'Kind', get: (r) => r.kind}, {label: 'Value', get: (r) => r.value},
			{label: 'Label', get: (r) => r.label || ''}]) : h('p', {class: 'muted'}, 'No e-mail or phone.')),
		    h('div', {class: 'panel'}, h('h2', {}, 'Deals'), dealsTable(c.deals))),
		  h('div', {class: 'col'}, quickAdd({contact_id: c.id, company_id: c.company_id || undefined}, reload),
		    h('div', {class: 'panel'}, h('h2', {}, 'Timeline'), timeline(c.timeline)))));
}

async function viewCompany(id) {
	const reload = () => route();
	const c = await api('GET', `records/company/${enc(id)}`);
	view(c.name || '(no name)',
		h('div', {class: 'row'},
		  h('div', {class: 'col'},
		    h('div', {class: 'panel'}, fieldList([['Tax id', c.tax_id], ['Industry', c.industry], ['Website', c.website],
			['Address', c.address], ['Created', day(c.created_at)]]), editPanel('company', c, reload)),
		    h('div', {class: 'panel'}, h('h2', {}, 'Channels'),
		      c.channels.length ? table(c.channels, [{label: 'Kind', get: (r) => r.kind}, {label: 'Value', get: (r) => r.value}])
			: h('p', {class: 'muted'}, 'No e-mail or phone.')),
		    h('div', {class: 'panel'}, h('h2', {}, 'People'),
		      c.contacts.length ? table(c.contacts, [{label: 'Name', get: (r) => link('contact', r.id, fullName(r))},
			{label: 'Title', get: (r) => r.title || ''}, {label: 'Role', get: (r) => r.role || ''}])
			: h('p', {class: 'muted'}, 'No contacts.')),
		    h('div', {class: 'panel'}, h('h2', {}, 'Deals'), dealsTable(c.deals))),
		  h('div', {class: 'col'}, quickAdd({company_id: c.id}, reload),
		    h('div', {class: 'panel'}, h('h2', {}, 'Timeline'), timeline(c.timeline)))));
}

async function moveDeal(deal, stage) {
	let reason = null;
	if (stage.kind === 'lost') {
		reason = await ask(`Why was "${deal.title}" lost?`, 'loss reason (price, competitor, ...)');
		if (!reason)
			return false;
	}
	const body = {stage: stage.name};
	if (reason)
		body.reason = reason;
	const moved = await attempt(() => api('POST', `records/deal/${deal.id}/move`, body));
	if (moved)
		flash(`"${deal.title}" → ${stage.name}`);
	return !!moved;
}

function stageSelect(deal, stages, current, after) {
	return h('select', {class: 'write', 'aria-label': 'Move to stage', onchange: async (ev) => {
		const st = stages.find((s) => s.id === ev.target.value);
		if (st && await moveDeal(deal, st))
			after();
		else
			ev.target.value = current;
	}}, stages.map((s) => h('option', {value: s.id, selected: s.id === current}, s.name)));
}

async function viewDeal(id) {
	const reload = () => route();
	const d = await api('GET', `records/deal/${enc(id)}`);
	const pipes = await api('GET', 'pipelines');
	const p = pipes.find((x) => x.id === d.pipeline_id);
	view(d.title || '(no title)',
		h('div', {class: 'row'},
		  h('div', {class: 'col'},
		    h('div', {class: 'panel'}, fieldList([['Stage', h('span', {class: `tag ${d.stage_kind || ''}`}, d.stage || '')],
			['Pipeline', d.pipeline], ['Amount', money(d.amount_text, d.currency)],
			['Company', d.company_id ? link('company', d.company_id, d.company) : ''],
			['Contact', d.contact_id ? link('contact', d.contact_id, d.contact || undefined) : ''], ['Probability', d.probability],
			['Expected close', d.expected_close], ['Source', d.source], ['Loss reason', d.lost_reason]]),
		      p ? h('p', {class: 'write'}, 'Move to: ', stageSelect(d, p.stages, d.stage_id, reload)) : null,
		      editPanel('deal', d, reload)),
		    h('div', {class: 'panel'}, h('h2', {}, 'Stage history'),
		      table(d.stage_history, [{label: 'When', get: (r) => day(r.at)}, {label: 'From', get: (r) => r.from_stage || ''},
			{label: 'To', get: (r) => r.to_stage || ''}, {label: 'By', get: (r) => r.user || ''}]))),
		  h('div', {class: 'col'}, quickAdd({deal_id: d.id, contact_id: d.contact_id || undefined,
			company_id: d.company_id || undefined}, reload),
		    h('div', {class: 'panel'}, h('h2', {}, 'Timeline'), timeline(d.timeline)))));
}

async function viewList(entity) {
	const rows = await api('GET', `records/${entity}?limit=200`);
	view(`${entity[0].toUpperCase()}${entity.slice(1)} list`, h('div', {class: 'panel'},
		table(rows, [{label: 'Name', get: (r) => link(entity, r.id, r.name || r.title || fullName(r))}])));
}

/* ---------------------------------------------------------------- board -- */

function branchSelect(selected, onchange) {
	const sel = h('select', {'aria-label': 'Branch', onchange: () => onchange(sel.value)}, h('option', {value: ''}, 'All branches'));
	api('GET', 'records/branch?limit=500').then((bs) => {
		for (const b of bs)
			sel.append(h('option', {value: b.code, selected: b.code === selected}, b.code + (b.name ? ` — ${b.name}` : '')));
	}).catch(() => {});
	return sel;
}

function params(q) {
	return Object.entries(q).filter(([, v]) => v).map(([k, v]) => `${k}=${enc(v)}`).join('&');
}

async function viewBoard(q) {
	const pipes = await api('GET', 'pipelines');
	const pipe = pipes.find((p) => p.id === q.pipeline || p.name === q.pipeline) || pipes[0];
	if (!pipe)
		return view('Deals', h('p', {}, 'No pipelines.'));
	const b = await api('GET', `board?${params({pipeline: pipe.id, branch: q.branch, per_column: 100})}`);
	const go = (patch) => { location.hash = '#/board?' + params(Object.assign({pipeline: pipe.id, branch: q.branch}, patch)); };
	const stages = pipe.stages;
	const columns = b.columns.map((col) => {
		const el = h('section', {class: 'column', 'data-stage': col.stage, 'data-kind': col.kind},
			h('header', {}, h('div', {class: 'cname'}, col.stage, ' ', h('span', {class: 'ccount', title: 'deals in this stage'}, `(${col.count})`)),
			  h('div', {class: 'ctotal'}, col.amount_text || '—'),
			  col.max_days ? h('div', {class: 'ctotal'}, `deadline ${col.max_days} days`) : null),
			col.deals.map((d) => h('article', {class: `dealcard${d.over_max_days ? ' overdue' : ''}${d.stale ? ' stale' : ''}`,
				draggable: INFO.read_only ? null : 'true', 'data-deal': d.id,
				ondragstart: (ev) => { ev.dataTransfer.setData('text/plain', d.id); ev.dataTransfer.effectAllowed = 'move'; }},
				h('div', {}, link('deal', d.id, d.title)),
				h('div', {class: 'muted'}, d.company || ''),
				h('div', {class: 'amt'}, money(d.amount_text, d.currency)),
				d.over_max_days ? h('span', {class: 'tag lost', title: 'longer in this stage than its deadline'}, `${d.days_in_stage} days in stage`) : null,
				d.stale ? h('span', {class: 'tag warn', title: `no activity for ${b.stale_days}+ days`}, 'no activity') : null,
				INFO.read_only ? null : h('div', {}, stageSelect(d, stages, col.stage_id, () => route())))),
			col.count > col.deals.length ? h('p', {class: 'muted'}, `+ ${col.count - col.deals.length} more`) : null);
		if (!INFO.read_only) {
			el.addEventListener('dragover', (ev) => { ev.preventDefault(); el.classList.add('over'); });
			el.addEventListener('dragleave', () => el.classList.remove('over'));
			el.addEventListener('drop', async (ev) => {
				ev.preventDefault();
				el.classList.remove('over');
				const id = ev.dataTransfer.getData('text/plain');
				const from = b.columns.find((c) => c.deals.some((x) => x.id === id));
				if (!id || !from || from.stage_id === col.stage_id)
					return;
				const deal = from.deals.find((x) => x.id === id);
				if (await moveDeal(deal, stages.find((s) => s.id === col.stage_id)))
					route();
			});
		}
		return el;
	});
	view(`Deals — ${b.pipeline ? b.pipeline.name : pipe.name}`,
		h('div', {class: 'inline'},
		  h('select', {'aria-label': 'Pipeline', onchange: (ev) => go({pipeline: ev.target.value})},
		    pipes.map((p) => h('option', {value: p.id, selected: p.id === pipe.id}, p.name))), ' ',
		  branchSelect(q.branch, (v) => go({branch: v})),
		  h('span', {class: 'muted'}, ` Counts and totals are computed on the server over all deals of a stage; red: past the stage deadline; yellow: no activity for ${b.stale_days} days.`)),
		h('div', {class: 'board'}, columns));
}

/* ---------------------------------------------------------------- tasks -- */

function taskTable(rows) {
	if (!rows.length)
		return h('p', {class: 'muted'}, 'None.');
	return table(rows, [{label: 'Task', get: (r) => link('task', r.id, r.title)}, {label: 'Due', get: (r) => day(r.due)},
		{label: 'For', get: (r) => r.contact_id ? link('contact', r.contact_id, r.contact) : r.company_id ? link('company', r.company_id, r.company)
			: r.deal_id ? link('deal', r.deal_id, r.deal) : ''},
		{label: 'Assignee', get: (r) => r.assignee || ''},
		{label: '', get: (r) => h('button', {class: 'plain write', type: 'button', onclick: async () => {
			if (await attempt(() => api('PATCH', `records/task/${r.id}`, {status: 'done'}))) {
				flash('Task done');
				route();
			}
		}}, 'Done')}]);
}

async function viewTasks() {
	const views = ['overdue', 'today', 'upcoming', 'mine'];
	const titles = {overdue: 'Overdue', today: 'Today', upcoming: 'Next 7 days', mine: 'All my open tasks'};
	const [lists, bdays] = await Promise.all([Promise.all(views.map((v) => api('GET', `tasks?view=${v}`))),
		api('GET', 'birthdays?days=30')]);
	view('Tasks and reminders', h('div', {class: 'grid2'},
		views.map((v, i) => h('div', {class: 'panel', 'data-list': v}, h('h2', {}, `${titles[v]} (${lists[i].length})`), taskTable(lists[i]))),
		h('div', {class: 'panel', 'data-list': 'birthdays'}, h('h2', {}, 'Birthdays in the next 30 days'),
		  bdays.length ? table(bdays, [{label: 'Who', get: (r) => link('contact', r.id, fullName(r))},
			{label: 'Company', get: (r) => r.company || ''}, {label: 'Birthday', get: (r) => r.birthday},
			{label: 'In', num: true, get: (r) => r.in_days === 0 ? 'today' : `${r.in_days} days`}]) : h('p', {class: 'muted'}, 'None.'))));
}

/* ------------------------------------------------------------ dashboard -- */

/* Any report document as tables: an object's scalars as a list, its arrays
 * of objects as tables of their scalar columns (ids, clocks and the money
 * lists that a *_text stands for are left out). */
function render(v) {
	if (Array.isArray(v)) {
		if (!v.length)
			return h('span', {class: 'muted'}, '—');
		if (typeof v[0] !== 'object' || v[0] === null)
			return v.join(', ');
		const keys = [];
		for (const r of v)
			for (const k of Object.keys(r))
				if (!keys.includes(k) && shown(k, r) && (typeof r[k] !== 'object' || r[k] === null))
					keys.push(k);
		return table(v, keys.map((k) => ({label: k.replace(/_text$/, '').replace(/_/g, ' '),
			num: v.some((r) => typeof r[k] === 'number') || k.endsWith('_text'), get: (r) => cell(r, k)})));
	}
	if (v && typeof v === 'object') {
		const scal = Object.keys(v).filter((k) => shown(k, v) && (typeof v[k] !== 'object' || v[k] === null));
		const nest = Object.keys(v).filter((k) => shown(k, v) && v[k] && typeof v[k] === 'object');
		return h('div', {}, scal.length ? fieldList(scal.map((k) => [k.replace(/_text$/, '').replace(/_/g, ' '), cell(v, k)])) : null,
			nest.map((k) => h('div', {}, h('h3', {class: 'muted'}, k.replace(/_/g, ' ')), render(v[k]))));
	}
	return v === null ? '—' : String(v);
}

const HEADER_KEYS = ['report', 'from', 'to', 'pipeline', 'as_of'];
function shown(k, r) {
	if (k === 'id' || k.endsWith('_id') || HEADER_KEYS.includes(k) || k === 'totals' || k.endsWith('_totals'))
		return false;
	if (k === 'branch' && r[k] === null)
		return false;
	return !(r[k + '_text'] !== undefined && typeof r[k] === 'number');   /* the _text stands for it */
}

function cell(r, k) {
	const v = r[k];
	if (k.endsWith('_text'))
		return money(v, r.currency);
	if (v === null || v === undefined || v === '')
		return '—';
	if ((k === 'conversion' || k.endsWith('rate') || k === 'percent' || k === 'share') && typeof v === 'number')
		return `${v}%`;
	return String(v);
}

/* The funnel: deals now in each stage, deals that reached it, and the
 * conversion from the stage before, with a bar of "reached". */
function funnelView(f) {
	const max = Math.max(1, ...f.stages.map((s) => s.reached || 0));
	return h('div', {},
		fieldList([['deals', String(f.deals)], ['won', String(f.won)], ['lost', String(f.lost)],
			['win rate', f.win_rate === null ? '—' : `${f.win_rate}%`]]),
		h('table', {class: 'bars', 'data-report': 'funnel-bars'},
		  h('thead', {}, h('tr', {}, ['stage', 'reached', '', 'conversion', 'now', 'amount now'].map((t, i) =>
			h('th', {class: i === 1 || i >= 3 ? 'num' : null}, t)))),
		  h('tbody', {}, f.stages.map((s) => h('tr', {'data-stage': s.stage},
			h('td', {}, s.stage), h('td', {class: 'num'}, String(s.reached)),
			h('td', {class: 'barcell'}, h('div', {class: 'bar', style: {width: `${(100 * (s.reached || 0) / max).toFixed(1)}%`}})),
			h('td', {class: 'num'}, s.conversion === null || s.conversion === undefined ? '' : `${s.conversion}%`),
			h('td', {class: 'num'}, String(s.count)), h('td', {class: 'num'}, s.amount_text || ''))))),
		f.branches ? h('div', {}, h('h3', {class: 'muted'}, 'by branch'), render(f.branches)) : null);
}

function monthBounds() {
	const d = new Date(`${INFO.today || new Date().toISOString().slice(0, 10)}T00:00:00Z`);
	const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
	const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
	return [first.toISOString().slice(0, 10), last.toISOString().slice(0, 10)];
}

/* Each panel asks for its own report (GET /api/reports/NAME), the quick ones
 * first, and fills in when it arrives: over a big replica the slow reports
 * (time per stage, sources) do not hold back the funnel and the plan. */
const DASHBOARD = [['funnel', 'Funnel'], ['plan', 'Plan vs fact'], ['forecast', 'Expected sales (amount × probability)'],
	['overdue', 'Overdue deals and tasks'], ['losses', 'Loss reasons'], ['sources', 'Conversion by lead source'],
	['stages', 'Time per stage']];

async function viewDashboard(q) {
	const [m0, m1] = monthBounds();
	const f = {from: q.from ?? m0, to: q.to ?? m1, branch: q.branch || '', pipeline: q.pipeline || ''};
	const go = (patch) => { location.hash = '#/dashboard?' + params(Object.assign({}, f, patch)); };
	const from = h('input', {type: 'date', value: f.from, 'aria-label': 'From'});
	const to = h('input', {type: 'date', value: f.to, 'aria-label': 'To'});
	const panels = DASHBOARD.map(([name, title]) => {
		const body = h('p', {class: 'muted', 'data-loading': ''}, 'Loading…');
		return {name, body, el: h('div', {class: 'panel', 'data-report': name}, h('h2', {}, title), body)};
	});
	view(INFO.hub ? 'HQ dashboard — all branches' : 'Dashboard',
		h('form', {class: 'inline', onsubmit: (ev) => { ev.preventDefault(); go({from: from.value, to: to.value}); }},
		  'From ', from, ' to ', to, ' ', branchSelect(f.branch, (v) => go({branch: v})), h('button', {type: 'submit'}, 'Show'),
		  h('span', {class: 'muted'}, ' Same figures as crm report … --json.')),
		h('div', {class: 'grid2'}, panels.map((p) => p.el)));
	for (const p of panels) {
		let doc;
		try {
			doc = await api('GET', `reports/${p.name}?${params(f)}`);
		} catch (e) {
			p.body.replaceWith(h('p', {class: 'muted'}, e.message));
			continue;
		}
		p.body.replaceWith(p.name === 'funnel' && doc.stages ? funnelView(doc) : render(doc));
	}
}

/* ---------------------------------------------------------------- inbox -- */

async function viewInbox() {
	const [conf, dups] = await Promise.all([api('GET', 'conflicts'), api('GET', 'duplicates')]);
	const act = (label, fn, cls) => h('button', {class: `${cls || 'plain'} write`, type: 'button', onclick: async () => {
		if (await attempt(fn)) {
			flash(`${label}: done`);
			route();
		}
	}}, label);
	view('Conflicts and duplicates',
		h('div', {class: 'panel', 'data-list': 'conflicts'}, h('h2', {}, `Conflicts set aside by automatic merges (${conf.length})`),
		  conf.length ? table(conf, [{label: 'Record', get: (r) => r.entity === 'companies' || r.entity === 'contacts' || r.entity === 'deals'
			? link(r.entity.replace(/ies$/, 'y').replace(/s$/, ''), r.row_id, r.title || r.row_id) : r.entity},
			{label: 'Field', get: (r) => r.field}, {label: 'Kept', get: (r) => `${r.kept_stage || r.kept_value || ''} (${r.kept_by || ''})`},
			{label: 'Set aside', get: (r) => `${r.lost_stage || r.lost_value || ''} (${r.set_aside_by || ''})`},
			{label: 'Rule', get: (r) => r.rule}, {label: 'When', get: (r) => day(r.detected_at)},
			{label: '', get: (r) => [act('Keep', () => api('POST', `conflicts/${r.id}/resolve`)), ' ',
				act('Use set-aside value', () => api('POST', `conflicts/${r.id}/reapply`))]}])
			: h('p', {class: 'muted'}, 'No conflicts. Automatic merges set nothing aside.')),
		h('div', {class: 'panel', 'data-list': 'duplicates'}, h('h2', {}, `Suggested duplicates (${dups.length})`),
		  dups.length ? table(dups, [{label: 'Kind', get: (r) => r.entity},
			{label: 'Record', get: (r) => link(r.entity, r.id, r.title || r.id)},
			{label: 'Other', get: (r) => link(r.entity, r.other_id, r.other_title || r.other_id)},
			{label: 'Why', get: (r) => r.reason},
			{label: '', get: (r) => [act('Merge', () => api('POST', 'duplicates/merge', {a: r.id, b: r.other_id}), ''), ' ',
				act('Keep apart', () => api('POST', 'duplicates/keep-apart', {a: r.id, b: r.other_id}))]}])
			: h('p', {class: 'muted'}, 'No suggestions.')));
}

/* ----------------------------------------------------------------- sync -- */

async function viewSync() {
	const s = await api('GET', 'sync');
	const out = h('p', {class: 'muted'});
	view('Sync', h('div', {class: 'panel'},
		fieldList([['Hub', s.hub || (INFO.hub ? 'this is the hub' : 'not enrolled (crm init --join TOKEN)')],
			['Pending changes', String(s.pending_changes)], ['Last sync', s.last_sync ? day(s.last_sync) + ' UTC' : 'never']]),
		s.enrolled ? h('p', {}, h('button', {class: 'write', type: 'button', onclick: async (ev) => {
			ev.target.disabled = true;
			out.textContent = 'Syncing…';
			const r = await attempt(() => api('POST', 'sync'));
			ev.target.disabled = false;
			out.textContent = r ? `Pushed ${r.result.pushed} batches, pulled ${r.result.pulled} (${r.result.changes} changes).` : 'Sync failed.';
			if (r)
				setTimeout(route, 800);
		}}, 'Sync now')) : null, out));
}

/* ---------------------------------------------------------------- route -- */

async function route() {
	const raw = location.hash.replace(/^#\/?/, '');
	const [path, qs] = raw.split('?');
	const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
	const q = Object.fromEntries(new URLSearchParams(qs || ''));
	const nav = parts[0] || 'home';
	for (const a of document.querySelectorAll('#nav a'))
		a.classList.toggle('on', a.dataset.nav === nav);
	try {
		if (parts.length === 2 && parts[0] === 'contact')
			await viewContact(parts[1]);
		else if (parts.length === 2 && parts[0] === 'company')
			await viewCompany(parts[1]);
		else if (parts.length === 2 && parts[0] === 'deal')
			await viewDeal(parts[1]);
		else if (parts.length === 2)
			await viewRecord(parts[0], parts[1]);
		else if (nav === 'board')
			await viewBoard(q);
		else if (nav === 'tasks')
			await viewTasks();
		else if (nav === 'dashboard')
			await viewDashboard(q);
		else if (nav === 'inbox')
			await viewInbox();
		else if (nav === 'sync')
			await viewSync();
		else
			await viewHome();
	} catch (e) {
		view('Something went wrong', h('p', {class: 'panel'}, e.message));
	}
}

/* Any other record (a task, an activity, ...): its fields. */
async function viewRecord(entity, id) {
	const r = await api('GET', `records/${enc(entity)}/${enc(id)}`);
	view(`${entity}: ${r.title || r.subject || r.name || id}`, h('div', {class: 'panel'}, render(r)));
}

async function main() {
	searchInit();
	try {
		INFO = await api('GET', 'info');
	} catch (e) {
		flash(e.message, true);
	}
	if (INFO.read_only)
		document.body.classList.add('ro');
	$('#mode').textContent = INFO.hub ? 'HQ · read-only' : INFO.read_only ? 'read-only' : '';
	$('#who').textContent = [INFO.user, INFO.branch, INFO.name].filter(Boolean).join(' · ');
	window.addEventListener('hashchange', route);
	await route();
	document.body.dataset.ready = '1';
}

main();
