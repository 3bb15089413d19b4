#!/bin/sh
# One-shot run by docker-compose.elk.yml: once Elasticsearch answers, give the built-in
# kibana_system user its password and create the least-privilege writer Logstash uses. Idempotent.
set -eu
: "${ELASTIC_PASSWORD:?set ELASTIC_PASSWORD in .env}"
: "${KIBANA_PASSWORD:?set KIBANA_PASSWORD in .env}"
: "${LOGSTASH_WRITER_PASSWORD:?set LOGSTASH_WRITER_PASSWORD in .env}"
es="http://elasticsearch:9200"
auth="elastic:${ELASTIC_PASSWORD}"

tries=0
until curl -fsS -m 5 -u "$auth" "$es/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then echo "setup: Elasticsearch not ready after 5 min" >&2; exit 1; fi
  sleep 5
done

curl -fsS -m 10 -u "$auth" -H 'Content-Type: application/json' \
  -X POST "$es/_security/user/kibana_system/_password" \
  -d "{\"password\":\"${KIBANA_PASSWORD}\"}" >/dev/null
curl -fsS -m 10 -u "$auth" -H 'Content-Type: application/json' \
  -X PUT "$es/_security/role/amf1_logs_writer" \
  -d '{"cluster":["monitor"],"indices":[{"names":["amf1-logs-*"],"privileges":["create_index","create_doc","index","write","auto_configure"]}]}' >/dev/null
curl -fsS -m 10 -u "$auth" -H 'Content-Type: application/json' \
  -X PUT "$es/_security/user/amf1_logstash" \
  -d "{\"password\":\"${LOGSTASH_WRITER_PASSWORD}\",\"roles\":[\"amf1_logs_writer\"]}" >/dev/null
echo "setup: kibana_system password set, amf1_logstash writer ready"
