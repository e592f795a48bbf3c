// The minimal JavaScript Worker that `make bench` measures beside edge-login (the "cpu"
// step): the same `/health` answer, body and headers, served by the same `wrangler dev`.
// It logs nothing and has no bindings: it is the floor a plain JS Worker costs.
const HEADERS = {
  "Content-Type": "application/json",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
};

export default {
  fetch(request) {
    if (new URL(request.url).pathname === "/health") {
      return new Response('{"status":"ok"}', { headers: HEADERS });
    }
    return new Response('{"error":"not_found","message":"no such route"}', {
      status: 404,
      headers: HEADERS,
    });
  },
};
