// Claimwire's pages: claim filters and links between the text and the claim list; the submission form.
// No inline script anywhere: the Content-Security-Policy allows only this file.
"use strict";

function setUpFilters() {
  const form = document.getElementById("filters");
  if (!form) return;
  const cards = Array.from(document.querySelectorAll(".card"));
  const marks = Array.from(document.querySelectorAll("mark[data-claims]"));
  const apply = () => {
    const claimant = form.elements.claimant.value;
    const type = form.elements.type.value;
    const minimum = parseFloat(form.elements.min_checkworthiness.value) || 0;
    const visible = new Set();
    for (const card of cards) {
      const show = (!claimant || card.dataset.claimant === claimant)
        && (!type || card.dataset.type === type)
        && parseFloat(card.dataset.checkworthiness) >= minimum;
      card.hidden = !show;
      if (show) visible.add(card.dataset.claim);
    }
    for (const mark of marks) {
      mark.classList.toggle("dim", !mark.dataset.claims.split(" ").some((id) => visible.has(id)));
    }
    document.getElementById("shown").textContent = String(visible.size);
    document.getElementById("empty").hidden = visible.size > 0;
  };
  form.addEventListener("change", apply);
}

function setUpJumps() {
  for (const link of document.querySelectorAll(".card .jump")) {
    link.addEventListener("click", (event) => {
      const target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      history.replaceState(null, "", link.getAttribute("href"));
      target.scrollIntoView({ behavior: "smooth", block: "center" });
      for (const other of document.querySelectorAll("mark.flash")) other.classList.remove("flash");
      target.classList.add("flash");
      selectCard(link.closest(".card"));
    });
  }
  const text = document.getElementById("text");
  if (!text) return;
  text.addEventListener("click", (event) => {
    const mark = event.target.closest("mark[data-claims]");
    if (!mark) return;
    const card = document.querySelector(`.card[data-claim="${CSS.escape(mark.dataset.claims.split(" ")[0])}"]`);
    if (card) { selectCard(card); card.scrollIntoView({ behavior: "smooth", block: "nearest" }); }
  });
}

function selectCard(card) {
  for (const other of document.querySelectorAll(".card.active")) other.classList.remove("active");
  if (card) card.classList.add("active");
}

function setUpSubmission() {
  const form = document.getElementById("submit-article");
  if (!form) return;
  const status = document.getElementById("submit-status");
  const say = (message) => { status.hidden = false; status.textContent = message; };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const headers = { "Content-Type": "application/json", "Accept": "application/json" };
    const key = form.elements.api_key ? form.elements.api_key.value.trim() : "";
    if (key) headers.Authorization = `Bearer ${key}`;
    const body = { text: form.elements.text.value };
    if (form.elements.title.value.trim()) body.title = form.elements.title.value.trim();
    say("Sending…");
    try {
      const response = await fetch(form.dataset.endpoint, { method: "POST", headers, body: JSON.stringify(body) });
      const answer = await response.json();
      if (!response.ok) { say(answer.detail || answer.title || `The service answered ${response.status}.`); return; }
      window.location.assign(answer.links.view);
    } catch (error) {
      say(`The request failed: ${error}`);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => { setUpFilters(); setUpJumps(); setUpSubmission(); });
// Lets a test (and a curious reader of the DOM) see that the page's own script ran.
document.documentElement.dataset.script = "ready";
