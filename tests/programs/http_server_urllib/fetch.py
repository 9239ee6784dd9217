# After the Python docs' urllib HOWTO ("Fetching URLs": urllib.request.urlopen and
# `with ... as response: html = response.read()`). Fetches hello.txt from the
# http.server beside it on port 9321.
import urllib.request

with urllib.request.urlopen('http://localhost:9321/hello.txt') as response:
    html = response.read()
    print(response.status, response.headers['Content-Type'])
print(html.decode().strip())
