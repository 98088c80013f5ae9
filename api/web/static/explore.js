// The dataset page's row explorer: filter one column, sort by a column, page with the API's cursors.
// Every request is a GET of the public rows API (the same URL a developer would use, shown under the
// table); without JavaScript the form stays hidden and the page's sample rows and API examples remain.
(function () {
  "use strict";
  const form = document.getElementById("explorer");
  if (!form || !window.fetch) return;
  const column = form.querySelector("#ex-column");
  const operator = form.querySelector("#ex-operator");
  const value = form.querySelector("#ex-value");
  const sort = form.querySelector("#ex-sort");
  const direction = form.querySelector("#ex-direction");
  const status = document.getElementById("explore-status");
  const results = document.getElementById("explore-results");
  const pager = document.getElementById("explore-pager");
  const previous = document.getElementById("ex-prev");
  const next = document.getElementById("ex-next");
  const columns = Array.from(column.options).map((o) => o.value);
  let cursors = [null];  // the cursor of each page shown so far; the last is this page's
  let nextCursor = null;

  function operators() {
    const chosen = column.options[column.selectedIndex];
    operator.replaceChildren();
    for (const pair of (chosen.dataset.operators || "").split("|")) {
      const at = pair.indexOf("=");
      const option = document.createElement("option");
      option.value = pair.slice(0, at);
      option.textContent = pair.slice(at + 1);
      operator.append(option);
    }
  }

  function query(cursor) {
    const params = new URLSearchParams();
    params.set("release", form.dataset.release);
    params.set("limit", form.dataset.pageSize);
    params.set("select", columns.join(","));
    if (sort.value) params.set("order", direction.value + sort.value);
    const text = value.value.trim();
    if (text !== "" || operator.value === "isnull") {
      const name = column.value + (operator.value ? "__" + operator.value : "");
      params.set(name, operator.value === "isnull" && text === "" ? "true" : text);
    }
    if (cursor) params.set("cursor", cursor);
    return form.dataset.rows + "?" + params.toString();
  }

  function cell(v) {
    if (v === null || v === undefined) return "";
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }

  function table(rows, url) {
    const t = document.createElement("table");
    t.className = "sample explorer-table";
    const caption = document.createElement("caption");
    caption.textContent = "Rows " + ((cursors.length - 1) * Number(form.dataset.pageSize) + 1) + " to " +
      ((cursors.length - 1) * Number(form.dataset.pageSize) + rows.length) + " of the matching rows";
    t.append(caption);
    const head = t.createTHead().insertRow();
    for (const name of columns) {
      const th = document.createElement("th");
      th.scope = "col";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = name;
      if (sort.value === name) {
        th.setAttribute("aria-sort", direction.value === "-" ? "descending" : "ascending");
        button.textContent += direction.value === "-" ? " ↓" : " ↑";
      }
      button.setAttribute("aria-label", "Sort by " + name + (sort.value === name && direction.value !== "-" ? ", descending" : ", ascending"));
      button.addEventListener("click", () => {
        direction.value = sort.value === name && direction.value !== "-" ? "-" : "";
        sort.value = name;
        load(true);
      });
      th.append(button);
      head.append(th);
    }
    const body = t.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      for (const name of columns) tr.insertCell().textContent = cell(row[name]);
    }
    const link = document.createElement("p");
    link.className = "muted api-url";
    link.append("From the API: ");
    const a = document.createElement("a");
    a.href = url;
    a.textContent = url;
    link.append(a);
    results.replaceChildren(t, link);
    results.hidden = false;
  }

  function load(fresh) {
    if (fresh) cursors = [null];
    const url = query(cursors[cursors.length - 1]);
    status.textContent = "Loading rows…";
    fetch(url, { headers: { Accept: "application/json" } })
      .then((response) => response.json().then((body) => ({ ok: response.ok, body: body })))
      .then(({ ok, body }) => {
        if (!ok) {
          status.textContent = "The API refused this: " + (body && body.error ? body.error.message : "no answer") + ".";
          return;
        }
        const rows = body.rows || [];
        nextCursor = body.next || null;
        table(rows, url);
        pager.hidden = cursors.length === 1 && !nextCursor;
        previous.disabled = cursors.length === 1;
        next.disabled = !nextCursor;
        status.textContent = rows.length === 0 ? "No row matches." :
          "Showing " + rows.length + " row" + (rows.length === 1 ? "" : "s") + (nextCursor ? "; more follow." : "; that is all.");
      })
      .catch(() => { status.textContent = "The rows API did not answer; try again."; });
  }

  form.hidden = false;
  operators();
  column.addEventListener("change", operators);
  form.addEventListener("submit", (event) => { event.preventDefault(); load(true); });
  form.addEventListener("reset", () => { setTimeout(() => { operators(); load(true); }, 0); });
  next.addEventListener("click", () => { if (nextCursor) { cursors.push(nextCursor); load(false); } });
  previous.addEventListener("click", () => { if (cursors.length > 1) { cursors.pop(); load(false); } });
})();
