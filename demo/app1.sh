# shellcheck shell=bash
echo hello
