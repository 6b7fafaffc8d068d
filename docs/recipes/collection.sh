#!/usr/bin/env bash
# Collection on a schedule, end to end, against the local worker that `cargo xtask dev` starts:
# a course with a year's validity (education), a monthly subscription with metered usage deducted
# from a signed contract (SaaS), and a deposit with a balance due in 30 days (instalments).
# Needs bash, curl, openssl and python3. Run: ADMIN_TOKEN=<from edge/.dev.vars> docs/recipes/collection.sh
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8787}
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d" + sys.argv[1]))' "$1"; }
admin() { curl -sf -X "$1" "$BASE$2" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -d "$3"; }
# A signed /v1 call: HMAC-SHA256 over METHOD, PATH_AND_QUERY, TIMESTAMP, NONCE and BODY, a line each.
pd() {
  local ts nonce sig body=${3:-} with_body=()
  ts=$(date +%s); nonce=$(openssl rand -hex 12)
  sig=$(printf '%s\n%s\n%s\n%s\n%s\n' "$1" "$2" "$ts" "$nonce" "$body" | openssl dgst -sha256 -hmac "$API_KEY" | sed 's/^.*= //')
  [ -n "$body" ] && with_body=(-H 'Content-Type: application/json' --data-binary "$body")
  curl -s -X "$1" "$BASE$2" -H "Paydesk-Merchant: $MERCHANT" -H "Paydesk-Timestamp: $ts" \
    -H "Paydesk-Nonce: $nonce" -H "Paydesk-Signature: $sig" "${with_body[@]}"
}
# What the payer does on a pay page, posted as the page posts it.
pay() { curl -s -X POST "$BASE/api/checkout/${1##*/}/pay" -H 'Content-Type: application/json' -d '{"method":"balance","wallet":"wallet_ok"}'; }

# 0. A sandbox merchant with a fixed-price course that entitles its buyer for 365 days.
M=$(admin POST /admin/merchants '{"name":"Camellia Academy","tier":"enterprise","branding":{"display_name":"Camellia Academy"},
  "items":{"course-101":{"total":19900,"currency":"CNY"}},"validity_days":{"course-101":365}}')
MERCHANT=$(echo "$M" | field '["merchant_id"]'); API_KEY=$(echo "$M" | field '["api_key"]')

# 1. Education: the student buys the course; paying grants a year's entitlement.
ORDER=$(pd POST /v1/orders '{"out_trade_no":"EDU-0001","item_id":"course-101","description":"Python 101, one year","payer_ref":"student-42"}')
pay "$(echo "$ORDER" | field '["checkout_url"]')" > /dev/null
echo "education: student-42 until $(pd GET '/v1/entitlements?payer_ref=student-42' | field '["entitlements"][0]["valid_until"]')"

# 2. SaaS: a plan, a contract the customer signs once (here curl posts the signing page's form),
#    then a monthly subscription that deducts ¥299 plus ¥0.02 per API call reported.
pd POST /v1/contract_plans '{"plan_id":"2001","name":"Pro plan","max_amount_per_deduction":200000,"period":"month","max_deductions_per_period":2}' > /dev/null
SIGN=$(pd POST /v1/contracts '{"plan_id":"2001","contract_code":"ACME-PRO","display_account":"ops@acme.example"}' | field '["sign_url"]')
curl -s -X POST "$SIGN" -H 'Sec-Fetch-Site: same-origin' -d 'method=balance&wallet=wallet_ok&consent=yes' > /dev/null
SUB=$(pd POST /v1/subscriptions '{"subscription_id":"ACME-PRO","description":"Pro plan","contract_code":"ACME-PRO",
  "price":{"amount":29900,"interval":"month"},"usage":{"unit":"api_call","unit_amount":2}}')
echo "saas: $(echo "$SUB" | field '["status"]'), first period paid: $(echo "$SUB" | field '["invoices"][0]["status"]')"
pd POST /v1/subscriptions/ACME-PRO/usage '{"quantity":1200,"idempotency_key":"acme-batch-1"}' > /dev/null
pd POST /v1/subscriptions/ACME-PRO/usage '{"quantity":1200,"idempotency_key":"acme-batch-1"}' > /dev/null # counted once

# 3. Instalments: a 20% deposit (定金) now, the balance (尾款) in 30 days, paid through its link.
NOW=$(admin POST "/admin/merchants/$MERCHANT/clock/advance" '{"seconds":1}' | field '["business_time"]')
DUE=$(python3 -c 'import sys, datetime as d; t = d.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
print((t + d.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$NOW")
PLAN=$(pd POST /v1/installment_plans '{"plan_no":"PIANO-7","description":"Upright piano","parts":[
  {"amount":200000,"deposit":true,"label":"定金"},{"amount":800000,"due_at":"'"$DUE"'","label":"尾款"}]}')
pay "$(pd GET "/v1/orders/$(echo "$PLAN" | field '["parts"][0]["out_trade_no"]')" | field '["checkout_url"]')" > /dev/null

# 4. 32 days pass on the merchant's test clock: the subscription renewed by itself (the price plus
#    the usage), the balance became an order 48 hours before it was due; the payer pays it late,
#    within the plan's 72 hours of grace.
admin POST "/admin/merchants/$MERCHANT/clock/advance" '{"seconds":2764800}' > /dev/null
echo "saas: second invoice $(pd GET /v1/subscriptions/ACME-PRO | field '["invoices"][0]["amount"]["total"]') fen"
BALANCE=$(pd GET /v1/installment_plans/PIANO-7 | field '["parts"][1]["out_trade_no"]')
pay "$(pd GET "/v1/orders/$BALANCE" | field '["checkout_url"]')" > /dev/null
echo "instalments: $(pd GET /v1/installment_plans/PIANO-7 | field '["status"]')"
