"""The OpenAI-compatible API. No language model runs here: answers are deterministic and documented
(docs/fidelity.md, "AI Model Hub"), so that client code paths (streaming, tool calls, retries, usage
accounting) are exercised for real.

- A chat completion answers "Emulated reply of <model> to: <the last user message>", cut to `max_tokens`
  tokens (finish_reason "length" then). With `tools` (and tool_choice not "none"), a request whose last
  message is the user's is answered with a call of the first tool (or the one tool_choice names), its
  arguments built from the tool's JSON schema (the required properties, each a placeholder of its type);
  once the last message is a tool's result, the reply quotes it.
- With `stream: true` the same answer comes as server-sent events, one chunk per token, then `[DONE]`.
- Tokens are words and single punctuation characters (embedding.tokens); a chat prompt also counts
  3 tokens per message.
- Embeddings: embedding.embed, of the model's documented size (or `dimensions`).
- Images: PNGs of the requested size, of one colour derived from the prompt."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import uuid
import zlib
from typing import Any

from ...engine.errors import ApiError
from ...gateway.context import Ctx, Reply
from . import embedding
from .model import CATALOGUE, MODELS, OPENAI_API, model

PER_MESSAGE_TOKENS = 3


def _model_view(entry: dict[str, Any]) -> dict[str, Any]:
    return {"id": entry["id"], "object": "model", "created": CATALOGUE["created"], "owned_by": "ionos"}


@OPENAI_API.handler("modelsList")
def models(ctx: Ctx) -> Reply:
    return Reply(200, {"object": "list", "data": [_model_view(m) for m in MODELS.values()]})


@OPENAI_API.handler("modelsRetrieve")
def one_model(ctx: Ctx) -> Reply:
    entry = MODELS.get(ctx.params["model"])
    if entry is None:
        raise ApiError(404, f"The model '{ctx.params['model']}' does not exist", "model_not_found")
    return Reply(200, _model_view(entry))


# -- text ---------------------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    """A message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _cut(text: str, limit: int | None, stop: Any) -> tuple[str, str]:
    """The text up to the first stop sequence and at most `limit` tokens, and why it ended."""
    for s in [stop] if isinstance(stop, str) else stop or []:
        if s and s in text:
            text = text[: text.index(s)]
    words = embedding.tokens(text)
    if limit is not None and len(words) > limit:
        # keep the original spacing: cut after the limit-th token
        end, count = 0, 0
        for token in words[:limit]:
            end = text.index(token, end) + len(token)
            count += 1
        return text[:end], "length"
    return text, "stop"


def _placeholder(schema: dict[str, Any]) -> Any:
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    kind = str(schema.get("type"))
    if kind == "object":
        required = schema.get("required") or []
        props = schema.get("properties") or {}
        return {name: _placeholder(props.get(name) or {}) for name in required}
    return {"string": "example", "integer": 1, "number": 1.0, "boolean": True, "array": []}.get(kind, "example")


def _tool_call(ctx: Ctx) -> dict[str, Any] | None:
    """The tool call the request is answered with, if any."""
    body = ctx.body
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    if not tools or choice == "none" or body["messages"][-1]["role"] == "tool":
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        tool = next((t for t in tools if t["function"]["name"] == name), None)
        if tool is None:
            raise ApiError(400, f"attribute 'tool_choice': no tool is named '{name}'")
    else:
        tool = tools[0]
    fn = tool["function"]
    seed = json.dumps(body["messages"], sort_keys=True) + fn["name"]
    return {
        "id": "call_" + hashlib.sha256(seed.encode()).hexdigest()[:24],
        "type": "function",
        "function": {"name": fn["name"], "arguments": json.dumps(_placeholder(fn.get("parameters") or {}))},
    }


def _reply_text(ctx: Ctx) -> str:
    last = ctx.body["messages"][-1]
    if last["role"] == "tool":
        return f"The tool answered: {_text_of(last.get('content'))}"
    user = next((m for m in reversed(ctx.body["messages"]) if m["role"] == "user"), last)
    return f"Emulated reply of {ctx.body['model']} to: {_text_of(user.get('content'))}"


def _completion_id(prefix: str, ctx: Ctx) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def _sse(chunks: list[dict[str, Any]]) -> Reply:
    events = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    return Reply(200, events, {"Cache-Control": "no-cache"}, content_type="text/event-stream")


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


@OPENAI_API.handler("chatCompletionsCreate")
def chat(ctx: Ctx) -> Reply:
    body = ctx.body
    model(body["model"], "chat")
    messages = body["messages"]
    prompt = sum(embedding.count_tokens(_text_of(m.get("content"))) for m in messages)
    prompt += PER_MESSAGE_TOKENS * len(messages)
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    call = _tool_call(ctx)
    if call is not None:
        text, reason = "", "tool_calls"
        completion = embedding.count_tokens(call["function"]["arguments"]) + 1
    else:
        text, reason = _cut(_reply_text(ctx), limit, body.get("stop"))
        completion = embedding.count_tokens(text)
    n = body.get("n") or 1
    created, rid = int(ctx.now), _completion_id("chatcmpl", ctx)
    head = {"id": rid, "created": created, "model": body["model"], "system_fingerprint": None}
    if body.get("stream"):
        return _sse(_chat_chunks(ctx, head, n, text, call, reason, _usage(prompt, completion * n)))
    message: dict[str, Any] = {"role": "assistant", "content": None if call else text}
    if call:
        message["tool_calls"] = [call]
    choices = [{"index": i, "message": message, "finish_reason": reason, "logprobs": None} for i in range(n)]
    out = {**head, "object": "chat.completion", "choices": choices, "usage": _usage(prompt, completion * n)}
    return Reply(200, out)


def _chat_chunks(
    ctx: Ctx,
    head: dict[str, Any],
    n: int,
    text: str,
    call: dict[str, Any] | None,
    reason: str,
    usage: dict[str, int],
) -> list[dict[str, Any]]:
    def chunk(i: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": i, "delta": delta, "finish_reason": finish, "logprobs": None}
        return {**head, "object": "chat.completion.chunk", "choices": [choice]}

    out = []
    for i in range(n):
        out.append(chunk(i, {"role": "assistant", "content": ""}))
        if call is not None:
            out.append(chunk(i, {"tool_calls": [{"index": 0, **call}]}))
        else:
            out += [chunk(i, {"content": piece}) for piece in _pieces(text)]
        out.append(chunk(i, {}, reason))
    if (ctx.body.get("stream_options") or {}).get("include_usage"):
        out.append({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage})
    return out


def _pieces(text: str) -> list[str]:
    """The text in pieces of one token each, with the spacing before it: joined, they are the text."""
    pieces, start = [], 0
    for token in embedding.tokens(text):
        end = text.index(token, start) + len(token)
        pieces.append(text[start:end])
        start = end
    if start < len(text):
        pieces.append(text[start:])
    return pieces


@OPENAI_API.handler("completionsCreate")
def complete(ctx: Ctx) -> Reply:
    body = ctx.body
    model(body["model"], "chat")
    prompts = [body["prompt"]] if isinstance(body["prompt"], str) else body["prompt"]
    n = body.get("n") or 1
    created, rid = int(ctx.now), _completion_id("cmpl", ctx)
    head = {"id": rid, "created": created, "model": body["model"]}
    choices: list[dict[str, Any]] = []
    prompt_tokens = completion_tokens = 0
    for p, prompt in enumerate(prompts):
        prompt_tokens += embedding.count_tokens(prompt)
        text, reason = _cut(f" Emulated completion of {body['model']}.", body.get("max_tokens"), body.get("stop"))
        for i in range(n):
            completion_tokens += embedding.count_tokens(text)
            shown = prompt + text if body.get("echo") else text
            choices.append({"index": p * n + i, "text": shown, "finish_reason": reason, "logprobs": None})
    usage = _usage(prompt_tokens, completion_tokens)
    if body.get("stream"):
        chunks: list[dict[str, Any]] = []
        for c in choices:
            pieces = _pieces(c["text"])
            for k, piece in enumerate(pieces):
                last = k == len(pieces) - 1
                choice = {"index": c["index"], "text": piece, "finish_reason": c["finish_reason"] if last else None}
                chunks.append({**head, "object": "text_completion", "choices": [{**choice, "logprobs": None}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({**head, "object": "text_completion", "choices": [], "usage": usage})
        return _sse(chunks)
    return Reply(200, {**head, "object": "text_completion", "choices": choices, "usage": usage})


@OPENAI_API.handler("embeddingsCreate")
def embeddings(ctx: Ctx) -> Reply:
    body = ctx.body
    entry = model(body["model"], "embedding")
    dims = body.get("dimensions") or entry["dimensions"]
    if dims > entry["dimensions"]:
        raise ApiError(400, f"attribute 'dimensions': {body['model']} has at most {entry['dimensions']} dimensions")
    inputs = body["input"]
    if isinstance(inputs, str) or (inputs and isinstance(inputs[0], int)):
        inputs = [inputs]
    data, used = [], 0
    for i, item in enumerate(inputs):
        text = item if isinstance(item, str) else " ".join(f"t{t}" for t in item)  # token ids: one word each
        used += embedding.count_tokens(text) if isinstance(item, str) else len(item)
        vector = embedding.embed(text, dims)
        if body.get("encoding_format") == "base64":
            encoded: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        else:
            encoded = vector
        data.append({"object": "embedding", "index": i, "embedding": encoded})
    return Reply(200, {"object": "list", "model": body["model"], "data": data, "usage": _usage(used, 0)})


# -- images ---------------------------------------------------------------------------------------------

MAX_SIDE = 2048


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour (zlib compresses its identical rows to almost nothing)."""

    def part(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 6)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + part(b"IHDR", header) + part(b"IDAT", raw) + part(b"IEND", b"")


@OPENAI_API.handler("imagesGenerate")
def images(ctx: Ctx) -> Reply:
    body = ctx.body
    model(body.get("model") or "black-forest-labs/FLUX.1-schnell", "image")
    width, height = (int(v) for v in (body.get("size") or "1024x1024").split("x"))
    if not (16 <= width <= MAX_SIDE and 16 <= height <= MAX_SIDE):
        raise ApiError(400, f"attribute 'size': each side must be between 16 and {MAX_SIDE} pixels")
    data = []
    for i in range(body.get("n") or 1):
        digest = hashlib.sha256(f"{body['prompt']}#{i}".encode()).digest()
        image = png(width, height, (digest[0], digest[1], digest[2]))
        data.append({"b64_json": base64.b64encode(image).decode(), "revised_prompt": body["prompt"]})
    return Reply(200, {"created": int(ctx.now), "data": data})
