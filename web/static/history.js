// history.js: undo and redo of the user's own edits (create, delete, move,
// resize, text, colour, z-order, lock). Each step is sent to the server as an
// ordinary change over the Canvus routes (PATCH, POST or DELETE), so every
// collaborator sees an undo like any other edit.
//
// A re-crop is undone by re-cropping to the previous version's box (the
// deal API has no route that makes an older version current again).
//
// A table cell's edit is undone by a PATCH of that cell's text.
//
// An undo never reverts someone else's later change: before a step, the
// fields it would overwrite are compared with what our edit set; if anyone
// changed them since, that step is skipped and a toast says so.
//
// Widgets are named through refs ({id}) shared by every step about them, so
// a widget that an undo re-creates (under a new id) keeps its history.

import { toast } from './ui.js';

const LIMIT = 200;

// Fields compared before undoing a create or redoing a delete: what a person
// sees. depth is left out: a collaborator bringing something else to the
// front must not block the undo.
const CONTENT = ['location', 'size', 'scale', 'pinned', 'text', 'title', 'background_color', 'text_color', 'anchor_name', 'hash', 'version', 'line_color', 'line_width', 'type'];

/** norm makes two field values comparable (numbers to 1/100). */
export function norm(v) {
  return JSON.stringify(v === undefined ? null : v, (k, x) => (typeof x === 'number' ? Math.round(x * 100) / 100 : x));
}

/** same tells whether widget w holds every field of want. */
export function same(w, want) {
  for (const [k, v] of Object.entries(want)) {
    if (k === 'auto_raise') continue;
    if (norm(w[k]) !== norm(v)) return false;
  }
  return true;
}

/** contentOf picks the fields CONTENT names that snap has. */
export function contentOf(snap) {
  const out = {};
  for (const k of CONTENT) if (k in snap) out[k] = snap[k];
  return out;
}

export class History {
  /**
   * view provides: current(id) -> widget|null (gone)|undefined (unknown), patchRaw(w, body) -> widget|null,
   * cellText(w, r, c) -> string, patchCells(w, [{r, c, text}]) -> widget|null,
   * removeRaw(w) -> bool, recreate(snap, blob) -> widget|null, recropRaw(w, box, mode) -> {version}|null.
   */
  constructor(view) {
    this.view = view;
    this.undoStack = [];
    this.redoStack = [];
    this.refs = new Map();
    this.busy = false;
    this.onChange = null;
    this.inflight = new Set(); // edits still waiting for the server
    this.queue = Promise.resolve();
  }

  /** track registers an edit under way: an undo waits for it, so Ctrl+Z right after a drag undoes that drag. */
  track(p) {
    this.inflight.add(p);
    p.finally(() => this.inflight.delete(p)).catch(() => {});
    return p;
  }

  ref(id) {
    let r = this.refs.get(id);
    if (!r) { r = { id }; this.refs.set(id, r); }
    return r;
  }

  rebind(ref, id) {
    this.refs.delete(ref.id);
    ref.id = id;
    this.refs.set(id, ref);
  }

  /** push records one user action made of ops; a new action clears redo. */
  push(label, ops) {
    ops = ops.filter(Boolean);
    if (!ops.length) return;
    this.undoStack.push({ label, ops });
    if (this.undoStack.length > LIMIT) this.undoStack.shift();
    this.redoStack.length = 0;
    this.changed();
  }

  /** top returns the latest undoable entry (to merge a note's first text into its create). */
  top() { return this.undoStack[this.undoStack.length - 1] || null; }

  changed() {
    if (window.__canvasd) window.__canvasd.history = { undo: this.undoStack.map((e) => e.label), redo: this.redoStack.map((e) => e.label) };
    if (this.onChange) this.onChange();
  }

  // Steps run one after the other: Ctrl+Z pressed twice quickly undoes two.
  undo() { return this.enqueue(true); }
  redo() { return this.enqueue(false); }

  enqueue(undo) {
    const run = this.queue.then(() => this.step(undo));
    this.queue = run.catch(() => {});
    return run;
  }

  async step(undo) {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    // The stacks are read after the wait: the edits it waited for pushed onto them.
    const from = undo ? this.undoStack : this.redoStack;
    const to = undo ? this.redoStack : this.undoStack;
    const entry = from.pop();
    if (!entry) {
      toast(undo ? 'Nothing to undo' : 'Nothing to redo');
      return false;
    }
    this.busy = true;
    let done = 0;
    let skipped = 0;
    try {
      const ops = undo ? [...entry.ops].reverse() : entry.ops;
      for (const op of ops) {
        if (await this.apply(op, undo)) done++; else skipped++;
      }
    } finally {
      this.busy = false;
    }
    if (done) to.push(entry);
    const verb = undo ? 'Undo' : 'Redo';
    const n = entry.ops.length;
    // One undo toast at a time: a run of Ctrl+Z does not pile them up.
    if (this.lastToast) this.lastToast.remove();
    if (skipped) {
      this.lastToast = toast(`${verb} skipped${n > 1 ? ` for ${skipped} of ${n} items` : ''}: someone else changed it since (or it cannot be restored).`, 'error', 5000);
    } else {
      this.lastToast = toast(`${verb}: ${entry.label}`, 'info', 1800);
    }
    this.changed();
    this.view.schedule();
    return skipped === 0;
  }

  async apply(op, undo) {
    const v = this.view;
    // Compared with the server's copy: our own last change may not be back on the websocket yet.
    const w = await v.current(op.ref.id);
    if (w === undefined) return false;
    switch (op.kind) {
      case 'patch': {
        const want = undo ? op.after : op.before;
        const target = undo ? op.before : op.after;
        if (!w || !same(w, want)) return false;
        return !!(await v.patchRaw(w, target));
      }
      case 'create':
      case 'delete': {
        const remove = (op.kind === 'create') === undo;
        if (remove) {
          if (!w || !same(w, contentOf(op.snap))) return false;
          return v.removeRaw(w);
        }
        if (w) return false; // still there
        const nw = await v.recreate(op.snap, op.blob);
        if (!nw) return false;
        this.rebind(op.ref, nw.id);
        op.snap = { ...op.snap, ...nw };
        return true;
      }
      case 'cell': {
        // A table cell's text: undone only while it still holds ours.
        const want = undo ? op.after : op.before;
        if (!w || v.cellText(w, op.r, op.c) !== want) return false;
        return !!(await v.patchCells(w, [{ r: op.r, c: op.c, text: undo ? op.before : op.after }]));
      }
      case 'recrop': {
        // A re-crop makes a new version; its inverse re-crops the same
        // source to the previous version's box (a newer version with the
        // same pixels). Skipped when anyone made another version since.
        if (!w || Number(w.version) !== op.at) return false;
        const to = undo ? op.prev : op.next;
        if (!to || !to.box) return false;
        const r = await v.recropRaw(w, to.box, to.mode || 'freeform');
        if (!r || typeof r.version !== 'number') return false;
        op.at = r.version;
        return true;
      }
    }
    return false;
  }
}
