// live.js: the canvas websocket. It reconnects after a drop with
// ?since=<last seq seen>, so no event is missed, and asks for a reload when
// the server answers RESYNC.

import { getToken } from './api.js';

const BACKOFF = [250, 500, 1000, 2000, 4000, 8000];

export class Live {
  /**
   * handlers: onHello(msg, first), onEvent(env), onPresence(msg),
   * onJoin(viewer), onLeave(viewer), onResync(msg), onStatus(status, detail)
   * where status is "connecting" | "live" | "reconnecting" | "closed".
   */
  constructor(canvasID, handlers) {
    this.canvasID = canvasID;
    this.h = handlers;
    this.seq = null;       // last seq applied
    this.ws = null;
    this.attempt = 0;
    this.closed = false;
    this.connectedOnce = false;
    this.timer = 0;
    this.pingTimer = 0;
    this.lastPresence = 0;
    this.pendingPresence = null;
    this.presenceTimer = 0;
  }

  connect() {
    if (this.closed) return;
    clearTimeout(this.timer);
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let url = `${proto}//${location.host}/api/v1/canvases/${this.canvasID}/ws`;
    if (this.seq !== null) url += `?since=${this.seq}`;
    const protocols = ['canvasd.v1'];
    const t = getToken();
    if (t && /^[A-Za-z0-9._~-]+$/.test(t)) protocols.push('token.' + t);
    this.h.onStatus(this.connectedOnce ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(url, protocols);
    } catch (e) {
      this.retry();
      return;
    }
    this.ws = ws;
    let hello = false;
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg.type === 'HELLO') {
        hello = true;
        const first = !this.connectedOnce;
        this.connectedOnce = true;
        this.attempt = 0;
        this.holdUntil = 0;
        if (this.seq === null) this.seq = msg.seq;
        this.h.onStatus('live');
        this.h.onHello(msg, first);
        return;
      }
      this.dispatch(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      if (this.closed) return;
      if (ev.code === 4003) {
        this.h.onStatus('closed', 'Your access to this canvas was removed.');
        return;
      }
      if (!hello && ev.code === 1006 && !this.connectedOnce && this.attempt > 3) {
        this.h.onStatus('closed', 'Cannot open the live connection.');
        return;
      }
      this.retry();
    };
    ws.onerror = () => { /* onclose follows */ };
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.send({ type: 'PING' }), 25000);
  }

  retry() {
    if (this.closed) return;
    this.h.onStatus('reconnecting');
    let d = BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)];
    if (this.holdUntil) d = Math.max(d, this.holdUntil - performance.now());
    this.attempt++;
    this.timer = setTimeout(() => this.connect(), d);
  }

  dispatch(msg) {
    switch (msg.type) {
      case 'PRESENCE': this.h.onPresence(msg); return;
      case 'VIEWER_JOINED': this.h.onJoin(msg.viewer); return;
      case 'VIEWER_LEFT': this.h.onLeave(msg.viewer); return;
      case 'RESYNC':
        if (typeof msg.seq === 'number') this.seq = msg.seq;
        this.h.onResync(msg);
        return;
      case 'PONG': case 'ERROR': return;
    }
    if (typeof msg.seq === 'number' && msg.seq > 0) {
      if (this.seq !== null && msg.seq <= this.seq) return; // already applied
      this.seq = msg.seq;
    }
    this.h.onEvent(msg);
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }

  /**
   * presence sends the cursor and selection, at most 20 a second; extra
   * adds fields ({editing, draft}: the note being typed in, and its text).
   */
  presence(cursor, selection, extra) {
    // A change of the note being edited is never merged away by the throttle.
    const p = this.pendingPresence;
    if (p && p.editing !== undefined && (!extra || extra.editing !== p.editing)) this.flushPresence();
    this.pendingPresence = { type: 'PRESENCE', cursor, selection, ...(extra || {}) };
    const now = performance.now();
    const wait = 50 - (now - this.lastPresence);
    if (wait <= 0) {
      this.flushPresence();
    } else if (!this.presenceTimer) {
      this.presenceTimer = setTimeout(() => this.flushPresence(), wait);
    }
  }

  flushPresence() {
    clearTimeout(this.presenceTimer);
    this.presenceTimer = 0;
    if (!this.pendingPresence) return;
    if (this.send(this.pendingPresence)) {
      this.lastPresence = performance.now();
      this.pendingPresence = null;
    }
  }

  /**
   * drop closes the socket as a network failure would (debug and tests);
   * holdMs keeps it down at least that long before reconnecting.
   */
  drop(holdMs = 0) {
    this.holdUntil = holdMs > 0 ? performance.now() + holdMs : 0;
    if (this.ws) this.ws.close(4000, 'client drop');
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.presenceTimer);
    clearInterval(this.pingTimer);
    if (this.ws) this.ws.close(1000, 'bye');
    this.ws = null;
  }
}
