#!/usr/bin/env bash
# make demo: a registry host and a client in containers, the collection's site playbook over them,
# then the published image fetched with the real rkt, verified, and run on the client. Safe to run again.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
state=.build/demo
domain=aci-demo-registry
stage1_name=coreos.com/rkt/stage1-fly:1.30.0

for var in RKT RKT_STAGE1; do
    if [ -z "${!var:-}" ] || [ ! -f "${!var}" ]; then
        echo "demo: $var names no file (${!var:-unset}). The demo's client runs the real rkt 1.30.0: run" >&2
        echo "      make demo RKT=/path/to/rkt RKT_STAGE1=/path/to/stage1-fly.aci (make finds them in ../shared/rkt/)." >&2
        exit 1
    fi
done
image=$(tests/hosts/build-image.sh)

podman network exists aci-demo || podman network create aci-demo >/dev/null
# The client is privileged: rkt's stage1-fly bind-mounts /dev, /proc and /sys (CAP_SYS_ADMIN).
# A client left by an older demo without that is made again.
if podman container exists aci-demo-client &&
   [ "$(podman inspect -f '{{.HostConfig.Privileged}}' aci-demo-client)" != true ]; then
    podman rm -f aci-demo-client >/dev/null
fi
for name in aci-demo-registry aci-demo-client; do
    if ! podman container exists "$name"; then
        flags=()
        [ "$name" = aci-demo-client ] && flags=(--privileged)
        podman run -d --name "$name" --hostname "$name" --network aci-demo --systemd=always "${flags[@]}" \
            "$image" /sbin/init >/dev/null
    fi
    podman start "$name" >/dev/null
done
for name in aci-demo-registry aci-demo-client; do
    for _ in $(seq 30); do
        state_now=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
        case "$state_now" in running|degraded) break ;; esac
        sleep 1
    done
done

echo "== ansible-playbook aci.registry.site (CA, certificates, trust, nginx, publish, client trust and rkt)"
ansible-playbook -i demo/inventory.yml aci.registry.site

# What a user types on the client. No --insecure-options for the image and no `rkt trust`
# prompt: discovery, TLS and the signature check rest on what the roles installed. Only
# stage1-fly, which rkt's own build leaves unsigned, is imported without a signature check.
fetch="rkt fetch --full $domain/app1:v0.0.1"
stage1="rkt fetch --insecure-options=image /usr/local/lib/rkt/stage1-fly.aci"
run="rkt run --no-overlay --stage1-name=$stage1_name $domain/app1:v0.0.1"
echo "== on aci-demo-client: $fetch"
podman exec aci-demo-client sh -c "$fetch </dev/null" | tee "$state/fetched"
podman exec aci-demo-client sh -c "$stage1 </dev/null" >/dev/null
echo "== on aci-demo-client: $run"
podman exec aci-demo-client sh -c "$run </dev/null" | tee "$state/ran"
said=$(grep -m1 . "$state/ran" || true)
[ "$said" = hello ] || { echo "demo: rkt run printed '$said'" >&2; exit 1; }

registry_ip=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' aci-demo-registry)
fingerprint=$(podman exec aci-demo-client ls /etc/rkt/trustedkeys/prefix.d/$domain)
cat <<SUMMARY

aci.registry demo is up.
  registry   $domain ($registry_ip), nginx as aci-registry.service, web root /srv/aci-registry
  client     aci-demo-client: trusts the demo CA and, for $domain, only the signing key $fingerprint
  rkt fetch  $(cat "$state/fetched")  (signature verified)
  rkt run    $said
  again      podman exec aci-demo-client $fetch
             podman exec aci-demo-client $run
  catalog    podman exec aci-demo-client curl -s https://$domain/
  discovery  podman exec aci-demo-client curl -s 'https://$domain/app1?ac-discovery=1'
  CA, keys   $top/$state/state/  (pki/ca.pem is the CA; gnupg/ the signing keyring; build/ the signed images)
  inventory  demo/inventory.yml - run it again with: ansible-playbook -i demo/inventory.yml aci.registry.site
  remove     make demo-clean
SUMMARY
