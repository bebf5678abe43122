// Messages above the table. A problem has a key (what failed) so that a repeat
// replaces the earlier message and a recovery removes it; information fades out.
const INFO_MS = 8000;

export class Notices {
  constructor(box) {
    this.box = box;
    this.problems = new Map();
  }

  has(key) { return this.problems.has(key); }
  text(key) { return this.problems.get(key) || ""; }

  // Show ``text`` as the problem ``key``; null clears it.
  problem(key, text) {
    if (!text) {
      if (!this.problems.delete(key)) return;
      const node = this.box.querySelector(`[data-key="${key}"]`);
      if (node) node.remove();
      return;
    }
    if (this.problems.get(key) === text) return;
    this.problems.set(key, text);
    let node = this.box.querySelector(`[data-key="${key}"]`);
    if (!node) {
      node = this._notice("problem", text);
      node.dataset.key = key;
      node.setAttribute("role", "alert");
      this.box.appendChild(node);
    } else {
      node.querySelector(".text").textContent = text;
    }
  }

  info(text) {
    const node = this._notice("info", text);
    this.box.appendChild(node);
    setTimeout(() => node.remove(), INFO_MS);
  }

  _notice(kind, text) {
    const node = document.createElement("div");
    node.className = "notice " + kind;
    const span = document.createElement("span");
    span.className = "text";
    span.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "dismiss";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => {
      node.remove();
      if (node.dataset.key) this.problems.delete(node.dataset.key);
    });
    node.append(span, close);
    return node;
  }
}
