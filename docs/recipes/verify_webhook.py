import hashlib
import hmac
import json
import time


def verify_paydesk(secret: str, header: str, body: bytes, tolerance: int = 300) -> dict:
    """Checks a paydesk delivery; returns the event, or raises ValueError.

    `body` is the raw request body exactly as received (bytes), before any JSON parsing.
    """
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    timestamps = [v for k, v in parts if k.strip() == "t"]
    signatures = [v for k, v in parts if k.strip() == "v1"]
    if not timestamps or not timestamps[0].isdigit() or not signatures:
        raise ValueError("not a paydesk signature header")
    t = timestamps[0]
    expected = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise ValueError("signature mismatch: check the webhook secret and use the raw body")
    if abs(time.time() - int(t)) > tolerance:
        raise ValueError("timestamp outside the tolerance: check the clock, or this is a replay")
    return json.loads(body)


if __name__ == "__main__":
    # Usage: python3 verify_webhook.py DELIVERY.json, where the file holds
    # {"secret": ..., "signature": <Paydesk-Signature header>, "body": <raw body text>}.
    import sys

    d = json.load(open(sys.argv[1]))
    event = verify_paydesk(d["secret"], d["signature"], d["body"].encode())
    print(event["id"], event["type"])
