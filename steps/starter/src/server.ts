import express from 'express';

// The checker starts your app with `npm start` and tells it where to listen in PORT.
const port = Number(process.env.PORT ?? 3000);

const app = express();

// TODO: step 1 begins here (steps/01-hello-server/README.md).
// - GET /health answers 200 {"status":"ok"}
// - unknown routes answer a JSON 404 NOT_FOUND, malformed JSON a 400 BAD_JSON
// - every response carries an X-Request-Id header
// - SIGTERM finishes the requests in flight and exits with code 0
// Run `npx sandbox check --step 1` from the course folder to see what is missing.

app.listen(port, () => {
  console.log(`Listening on http://localhost:${port}`);
});
