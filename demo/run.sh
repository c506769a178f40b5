#!/usr/bin/env bash
# make demo: a registry host and a client in containers, the collection's site playbook over them,
# then the published image fetched back and verified on the client. Safe to run again.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
state=.build/demo
image=$(tests/hosts/build-image.sh)

podman network exists aci-demo || podman network create aci-demo >/dev/null
for name in aci-demo-registry aci-demo-client; do
    if ! podman container exists "$name"; then
        podman run -d --name "$name" --hostname "$name" --network aci-demo --systemd=always "$image" /sbin/init >/dev/null
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

# The sample image: a static busybox that says hello.
mkdir -p "$state/rootfs/hello/bin"
cp -p /bin/busybox "$state/rootfs/hello/bin/busybox"

echo "== ansible-playbook aci.registry.site (CA, certificates, trust, nginx, publish, client trust)"
ansible-playbook -i demo/inventory.yml aci.registry.site
echo "== fetch the image back on the client, verified"
ansible-playbook -i demo/inventory.yml demo/fetch.yml

registry_ip=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' aci-demo-registry)
fingerprint=$(cd "$state/state/gnupg" 2>/dev/null && gpg --homedir . --list-keys --with-colons 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
cat <<SUMMARY

aci.registry demo is up.
  registry   aci-demo-registry ($registry_ip), nginx as aci-registry.service, web root /srv/aci-registry
  client     aci-demo-client: trusts the demo CA and the signing key ${fingerprint:-}
  catalog    https://aci-demo-registry/  (from the client: podman exec aci-demo-client curl -s https://aci-demo-registry/)
  discovery  podman exec aci-demo-client curl -s 'https://aci-demo-registry/hello?ac-discovery=1'
  on rkt     rkt fetch aci-demo-registry/hello:v1.0.0   (no prompt: the key is in /etc/rkt/trustedkeys)
  CA, keys   $top/$state/state/  (pki/ca.pem is the CA; gnupg/ the signing keyring; build/ the signed images)
  inventory  demo/inventory.yml - run it again with: ansible-playbook -i demo/inventory.yml aci.registry.site
  remove     make demo-clean
SUMMARY
