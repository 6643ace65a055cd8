#!/bin/sh
# Seeds the fuzz corpora (fuzz/corpus/<target>/, git-ignored) before `make fuzz` runs:
#   identify   - "<path>\n<User-Agent>" for every row of fixtures/user-agents.tsv
#   mac_parse  - each fixture MAC in the notations Mac::parse accepts, and UAs holding one
#   admin_json - a few admin API bodies
# plus every past crash in fuzz/regressions/<target>/. Existing corpus files are kept.
set -eu
cd "$(dirname "$0")/.."

for target in identify mac_parse admin_json; do
    mkdir -p "fuzz/corpus/$target"
    if [ -d "fuzz/regressions/$target" ]; then
        for f in "fuzz/regressions/$target"/*; do
            [ -f "$f" ] && cp "$f" "fuzz/corpus/$target/regression-$(basename "$f")"
        done
    fi
done

n=0
grep -v '^#' fixtures/user-agents.tsv | while IFS='	' read -r vendor model firmware mac _source ua; do
    n=$((n + 1))
    [ -n "$ua" ] || continue
    [ "$mac" = "-" ] && mac=000000000000
    upper=$(printf '%s' "$mac" | tr 'a-f' 'A-F')
    case "$vendor" in
        snom) path="/snom$model-$upper.htm" ;;
        grandstream) path="/cfg$mac.xml" ;;
        gigaset) path="/$mac.xml" ;;
        cisco | cisco-spa | linksys) path="/$mac.xml" ;;
        *) path="/$mac.cfg" ;;
    esac
    printf '%s\n%s' "$path" "$ua" > "fuzz/corpus/identify/ua-$n"
    printf '%s\n%s' "/y000000000066.cfg" "$ua" > "fuzz/corpus/identify/ua-$n-common"
    printf '%s' "$ua" > "fuzz/corpus/mac_parse/ua-$n"
    if [ "$mac" != 000000000000 ]; then
        printf '%s' "$mac" > "fuzz/corpus/mac_parse/bare-$n"
        printf '%s' "$upper" | sed 's/../&:/g; s/:$//' > "fuzz/corpus/mac_parse/colon-$n"
        printf '%s' "$mac" | sed 's/../&-/g; s/-$//' > "fuzz/corpus/mac_parse/dash-$n"
        printf '%s' "$mac" | sed 's/..../&./g; s/\.$//' > "fuzz/corpus/mac_parse/dot-$n"
    fi
done

a=fuzz/corpus/admin_json
printf '%s' '{"mac":"00:15:65:aa:bb:cc","model":"T46S","label":"Reception","hotdesk":true,"certificate_required":false}' > "$a/new-device"
printf '%s' '{"model":null,"label":"Desk 4","hotdesk":false}' > "$a/device-patch"
printf '%s' '{"user":"1001"}' > "$a/line"
printf '%s' '{"label":"Lobby"}' > "$a/adoption"
printf '%s' '{"extension":"1001","display_name":"Ann Smith","sip_user":"ann","sip_password":"hunter2hunter2","email":"ann@example.com","pin":"482913","generate_pin":false,"pin_change_required":true,"may_hotdesk":true}' > "$a/new-user"
printf '%s' '{"display_name":"Ann","regenerate_sip_password":true,"email":null,"locked":false}' > "$a/user-patch"
printf '%s' '{"name":"ci"}' > "$a/token"
printf '%s' '{"sip_server":"pbx.example.com","sip_port":5061,"sip_transport":"TLS","ntp_server":null,"lobby_extension":"100","hotdesk_max_login_minutes":480,"hotdesk_logout_time":"03:00","utc_offset":"+01:00"}' > "$a/settings"
