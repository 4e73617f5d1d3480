// The chat page: sends a message, reads the reply as server-sent events and shows it as it
// arrives. Everything is inserted as text (textContent), never as HTML.
"use strict";
(() => {
  const list = document.getElementById("messages");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("message");
  const send = document.getElementById("send");
  const remaining = document.getElementById("remaining");
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  function bubble(mine, text) {
    const empty = document.getElementById("empty");
    if (empty) empty.remove();
    const div = document.createElement("div");
    div.className = "message " + (mine ? "mine" : "theirs");
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = mine ? list.dataset.you : list.dataset.assistant;
    const p = document.createElement("p");
    p.textContent = text;
    div.append(who, p);
    list.append(div);
    div.scrollIntoView({ block: "end" });
    return { div, p };
  }

  // Help-line numbers and addresses in the assistant's words become links a phone can tap; the
  // text is still only ever inserted as text.
  const LINKABLE = /\b(188|192|193|911|988)\b|\b(cvv\.org\.br|988lifeline\.org|findahelpline\.com)\b|(\/safety-plan|\/grounding)\b/g;

  function linkify(p, text) {
    p.textContent = "";
    let last = 0;
    for (const match of text.matchAll(LINKABLE)) {
      p.append(text.slice(last, match.index));
      const a = document.createElement("a");
      a.textContent = match[0];
      a.href = match[1] ? "tel:" + match[1] : match[2] ? "https://" + match[2] : match[3];
      if (match[2]) a.rel = "noopener";
      p.append(a);
      last = match.index + match[0].length;
    }
    p.append(text.slice(last));
  }

  // After a crisis answer: the card stands out, and offers the safety plan and grounding.
  function showSupport(reply, data) {
    if (data.support !== "crisis" && data.support !== "imminent") return;
    reply.div.classList.add("crisis-card");
    if (data.support === "imminent") reply.div.classList.add("imminent");
    const actions = document.createElement("div");
    actions.className = "crisis-actions";
    const plan = document.createElement("a");
    plan.href = "/safety-plan";
    plan.textContent = data.safety_plan_saved ? list.dataset.planOpen : list.dataset.planMake;
    const grounding = document.createElement("a");
    grounding.href = "/grounding";
    grounding.textContent = list.dataset.grounding;
    actions.append(plan, grounding);
    reply.div.append(actions);
  }

  for (const p of list.querySelectorAll(".message.theirs p")) linkify(p, p.textContent);

  function showSources(div, sources) {
    if (!sources || sources.length === 0) return;
    const box = document.createElement("div");
    box.className = "sources";
    box.textContent = list.dataset.sources + ": " + sources.map((s) => s.citation).join("; ");
    div.append(box);
  }

  // Splits an SSE byte stream into (event, data) pairs.
  async function* events(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (data.length) yield [name, JSON.parse(data.join("\n"))];
      }
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (!message) return;
    input.value = "";
    send.disabled = true;
    bubble(true, message);
    const reply = bubble(false, "…");
    try {
      const response = await fetch("/api/v1/chat", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", "x-csrf-token": csrf() },
        body: JSON.stringify({ message }),
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        reply.p.textContent = body.error || list.dataset.error;
        reply.div.classList.add("failed");
        return;
      }
      let text = "";
      for await (const [name, data] of events(response)) {
        if (name === "delta") {
          text += data.text;
          reply.p.textContent = text;
        } else if (name === "done") {
          linkify(reply.p, data.reply);
          showSupport(reply, data);
          showSources(reply.div, data.sources);
          if (remaining && data.remaining !== null && data.remaining !== undefined) {
            remaining.textContent = String(data.remaining);
          }
        } else if (name === "error") {
          reply.p.textContent = data.error || list.dataset.error;
        }
      }
    } catch (_) {
      reply.p.textContent = list.dataset.error;
    } finally {
      send.disabled = false;
      input.focus();
    }
  });

  const clear = document.getElementById("clear");
  clear.addEventListener("click", async () => {
    if (!window.confirm(clear.dataset.confirm)) return;
    const response = await fetch("/api/v1/chat/history", { method: "DELETE", headers: { "x-csrf-token": csrf() } });
    if (response.ok) window.location.reload();
  });
})();
