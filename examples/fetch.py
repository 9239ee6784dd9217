"""Fetch a URL with urllib and print the status, the size and the first line.

Against the standard library's web server, welded:
    sockviz run "-m http.server 8000" "fetch.py http://server:8000/" --until fetch
"""

import sys
import urllib.request

url = sys.argv[1] if len(sys.argv) > 1 else "http://server:8000/"
with urllib.request.urlopen(url, timeout=10) as response:
    body = response.read()
    print(response.status, len(body), "bytes:", body.splitlines()[0].decode(errors="replace") if body else "")
