// Live progress on exercise pages. Only `checker serve` puts <meta name="workbook-live"> into
// the pages it serves; anywhere else (plain files, mdbook serve, a static host) this does
// nothing at all: no badge, no request, no error.
(() => {
    const meta = document.querySelector('meta[name="workbook-live"]');
    const page = location.pathname.match(/\/exercises\/([^/]+)\.html$/);
    if (!meta || !page) return;
    const name = decodeURIComponent(page[1]);
    const badge = document.createElement('p');
    badge.className = 'workbook-badge';
    badge.setAttribute('role', 'status');
    badge.setAttribute('aria-live', 'polite');
    const heading = document.querySelector('main h1');
    (heading ?? document.querySelector('main'))?.insertAdjacentElement(heading ? 'afterend' : 'afterbegin', badge);
    const show = (s) => {
        if (!s || !s.checked) {
            badge.dataset.status = 'unchecked';
            badge.textContent = `Not checked yet: run checker check ${name}`;
        } else {
            badge.dataset.status = s.done && s.goals_met === s.goals_total ? 'done' : 'pending';
            badge.textContent = `${s.goals_met === s.goals_total ? '✔' : '✘'} ${s.goals_met} of ${s.goals_total} goals met`;
        }
    };
    const refresh = () => fetch(meta.content, { cache: 'no-store' })
        .then((r) => (r.ok ? r.json() : null))
        .then((all) => show(all?.exercises?.[name]))
        .catch(() => {});
    refresh();
    setInterval(refresh, 2000);
})();
