#!/usr/bin/env bash
# `make dev`: the local Telegram emulator and the worker, wired together.
# Settings come from .dev.vars; the emulator gets the same bot token and secret, and
# the channel the default catalog sells access to (the bot its administrator).
set -euo pipefail
cd "$(dirname "$0")/.."

setting() { sed -n "s/^$1=//p" .dev.vars | tail -n 1; }
BOT_TOKEN=$(setting BOT_TOKEN)
WEBHOOK_SECRET=$(setting WEBHOOK_SECRET)
WORKER_PORT=${WORKER_PORT:-8787}
EMULATOR_PORT=${EMULATOR_PORT:-8081}
# A fixed development key, so that launch data carries a valid Ed25519 signature.
SEED=${DEV_SIGNING_SEED:-0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c}

emulator=target/debug/tma-emulator
"$emulator" --listen "127.0.0.1:$EMULATOR_PORT" --bot-token "$BOT_TOKEN" \
  --app-url "http://127.0.0.1:$WORKER_PORT/" \
  --webhook-url "http://127.0.0.1:$WORKER_PORT/telegram/webhook" --webhook-secret "$WEBHOOK_SECRET" \
  --web-app-js node_modules/@twa-dev/sdk/src/telegram-web-apps.js --signing-seed "$SEED" \
  --chat=-1001234567890:Insiders &
emulator_pid=$!
trap 'kill $emulator_pid 2>/dev/null || true' EXIT INT TERM

public_key=""
for _ in $(seq 1 50); do
  public_key=$(curl -sf "http://127.0.0.1:$EMULATOR_PORT/control/info" | sed -n 's/.*"public_key":"\([0-9a-f]*\)".*/\1/p') && [ -n "$public_key" ] && break
  sleep 0.2
done

# wrangler is started directly (not through npx) so that stopping it stops workerd too.
./node_modules/.bin/wrangler dev --test-scheduled --ip 127.0.0.1 --port "$WORKER_PORT" \
  --var "TELEGRAM_API_BASE:http://127.0.0.1:$EMULATOR_PORT" \
  --var "TELEGRAM_WEB_APP_JS:http://127.0.0.1:$EMULATOR_PORT/telegram-web-app.js" \
  --var "TONCENTER_API_BASE:http://127.0.0.1:$EMULATOR_PORT/toncenter" \
  --var "TON_CONNECT_WALLET_JS:http://127.0.0.1:$EMULATOR_PORT/tonconnect-wallet.js" \
  ${public_key:+--var "TELEGRAM_PUBLIC_KEY:$public_key"} &
worker_pid=$!
trap 'kill $worker_pid $emulator_pid 2>/dev/null || true' EXIT INT TERM

# The URL is worth opening only once the worker answers (its first build can take a while).
until curl -sf "http://127.0.0.1:$WORKER_PORT/healthz" >/dev/null; do
  kill -0 "$worker_pid" 2>/dev/null || { echo "wrangler dev stopped; see its output above" >&2; exit 1; }
  sleep 0.5
done
echo
echo "  Open http://127.0.0.1:$EMULATOR_PORT/ to use the shop as a Telegram user (type /start in the chat)."
echo
wait "$worker_pid"
