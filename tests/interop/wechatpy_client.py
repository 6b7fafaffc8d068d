"""Drives paydesk with wechatpy (https://github.com/wechatpy/wechatpy), a third-party WeChat Pay
v2 SDK from PyPI, used unmodified: only its base URL points at paydesk, as a merchant would set
it. Reads one JSON command per line on stdin, answers one JSON line each on stdout.

Commands: {"op": "create" | "query" | "close" | "refund" | "refund_query" | "parse_notification",
           "kwargs": {...}} plus "xml" for parse_notification; the withhold (papay) family:
           "apply_signing" (answers the signing URL the merchant sends the payer to, built from
           wechatpy's base_url and signed data), "query_signing", "apply_deduct",
           "withhold_query_order", "apply_cancel_signing", and "check_signed" (a signed XML
           notification: its fields if wechatpy's check_signature accepts it); "download_bill"
           (the bill's text).
"""

import json
import sys
from urllib.parse import urlencode

import xmltodict

from wechatpy.exceptions import InvalidSignatureException, WeChatPayException
from wechatpy.pay import WeChatPay


def main():
    cfg = json.loads(sys.stdin.readline())
    client = WeChatPay(appid=cfg["appid"], api_key=cfg["api_key"], mch_id=cfg["mch_id"], timeout=20)
    # The one change a merchant makes: the base URL (a class attribute in wechatpy).
    client.API_BASE_URL = cfg["base_url"].rstrip("/") + "/"
    ops = {
        "create": client.order.create,
        "query": client.order.query,
        "close": client.order.close,
        "refund": client.refund.apply,
        "refund_query": client.refund.query,
        "query_signing": client.withhold.query_signing,
        "apply_deduct": client.withhold.apply_deduct,
        "withhold_query_order": client.withhold.query_order,
        "apply_cancel_signing": client.withhold.apply_cancel_signing,
        "download_bill": client.tools.download_bill,
    }
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["op"] == "parse_notification":
                out = {"ok": dict(client.parse_payment_result(cmd["xml"]))}
            elif cmd["op"] == "apply_signing":
                link = client.withhold.apply_signing(**cmd.get("kwargs", {}))
                out = {"ok": {"url": link["base_url"] + "?" + urlencode(link["data"]), "data": dict(link["data"])}}
            elif cmd["op"] == "check_signed":
                fields = dict(xmltodict.parse(cmd["xml"])["xml"])
                out = {"ok": fields} if client.check_signature(fields) else {"invalid_signature": True}
            else:
                got = ops[cmd["op"]](**cmd.get("kwargs", {}))
                # download_bill answers the bill's text when it is not an XML document.
                out = {"ok": {"text": got} if isinstance(got, str) else dict(got)}
        except InvalidSignatureException:
            out = {"invalid_signature": True}
        except WeChatPayException as e:
            out = {"error": {"return_code": e.return_code, "result_code": e.result_code,
                             "return_msg": e.return_msg, "errcode": e.errcode, "errmsg": e.errmsg}}
        print(json.dumps(out, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
