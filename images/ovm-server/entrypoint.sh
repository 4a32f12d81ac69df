#!/bin/sh
# Boot of an Oracle VM Server lookalike: what a test needs from one is its release file and sshd.
#   OVS_RELEASE_TEXT    the line of /etc/ovs-release (if unset: the image's, else release 2.2.0)
#   OVM_AUTHORIZED_KEY  one public key that may log in as root (the pool's own, made per test run)
set -eu

if [ -n "${OVS_RELEASE_TEXT:-}" ]; then
    printf '%s\n' "$OVS_RELEASE_TEXT" > /etc/ovs-release
elif [ ! -s /etc/ovs-release ]; then
    echo "Oracle VM server release 2.2.0" > /etc/ovs-release
fi

mkdir -p /run/sshd
chmod 0755 /run/sshd

mkdir -p /root/.ssh
chmod 0700 /root/.ssh
if [ -n "${OVM_AUTHORIZED_KEY:-}" ]; then
    (umask 077 && printf '%s\n' "$OVM_AUTHORIZED_KEY" > /root/.ssh/authorized_keys)
    chmod 0600 /root/.ssh/authorized_keys
else
    echo "ovm-entrypoint: OVM_AUTHORIZED_KEY is empty: nobody can log in over SSH" >&2
fi

# Installing openssh-server made host keys that every container of the image would share: on its
# first boot a container makes its own, so known_hosts tells servers apart; a restart keeps them.
if [ ! -e /etc/ssh/.ovm-own-host-keys ]; then
    rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub
    touch /etc/ssh/.ovm-own-host-keys
fi
ssh-keygen -A >/dev/null

exec /usr/sbin/sshd -D -e
