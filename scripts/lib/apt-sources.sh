# shellcheck shell=bash
# Read this machine's apt configuration to find the Debian mirror URI for a suite,
# so that nothing in the repo names a mirror host.

# deb822_uri_for_suite SUITE FILE... -- first URI of an enabled deb822 source
# (*.sources) whose Types include "deb" and whose Suites include SUITE.
deb822_uri_for_suite() {
    local suite="$1"
    shift
    awk -v suite="$suite" '
        BEGIN { RS = ""; FS = "\n" }   # one record per stanza
        {
            types = ""; uris = ""; suites = ""; enabled = "yes"
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^[ \t]*#/) continue
                if (match($i, /^[A-Za-z-]+:/)) {
                    key = tolower(substr($i, 1, RLENGTH - 1))
                    value = substr($i, RLENGTH + 1)
                    if (key == "types") types = value
                    else if (key == "uris") uris = value
                    else if (key == "suites") suites = value
                    else if (key == "enabled") enabled = tolower(value)
                }
            }
            gsub(/[ \t]/, "", enabled)
            if (enabled == "no") next
            if ((" " types " ") !~ /[ \t]deb[ \t]/) next
            n = split(suites, s, /[ \t]+/)
            found = 0
            for (j = 1; j <= n; j++) if (s[j] == suite) found = 1
            if (!found) next
            n = split(uris, u, /[ \t]+/)
            for (j = 1; j <= n; j++) if (u[j] ~ /^(https?|ftp|file):\/\//) { print u[j]; exit }
        }' "$@"
}

# sources_list_uri_for_suite SUITE FILE... -- same for one-line
# "deb [options] URI SUITE COMPONENT..." entries.
sources_list_uri_for_suite() {
    local suite="$1"
    shift
    awk -v suite="$suite" '
        $1 == "deb" {
            i = 2
            if ($i ~ /^\[/) {               # skip "[arch=amd64 signed-by=...]"
                while (i <= NF && $i !~ /\]$/) i++
                i++
            }
            if ($(i + 1) == suite && $i ~ /^(https?|ftp|file):\/\//) { print $i; exit }
        }' "$@"
}

# apt_uri_for_suite SUITE -- deb822 *.sources first, then sources.list / *.list.
# Only plain http(s)/ftp/file URIs count (debootstrap cannot use mirror+ or cdrom:).
apt_uri_for_suite() {
    local suite="$1" uri="" f
    local deb822=() one_line=()
    for f in /etc/apt/sources.list.d/*.sources; do [[ -f "$f" ]] && deb822+=("$f"); done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [[ -f "$f" ]] && one_line+=("$f"); done
    if ((${#deb822[@]} > 0)); then
        uri="$(deb822_uri_for_suite "$suite" "${deb822[@]}")"
    fi
    if [[ -z "$uri" ]] && ((${#one_line[@]} > 0)); then
        uri="$(sources_list_uri_for_suite "$suite" "${one_line[@]}")"
    fi
    printf '%s' "$uri"
}
