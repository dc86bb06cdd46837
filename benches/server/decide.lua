-- POST /v1/decide: a Viewer reading crm-lite (allowed, with the mask obligation).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"target":"request","input":{"principal":{"id":"u-123","type":"user","authenticated_via":"sso","mfa":true},"action":"read","resource":{"type":"record","app_id":"crm-lite","id":"r-1"},"context":{"ip":"10.1.2.3","request_id":"req-1"}}}'
