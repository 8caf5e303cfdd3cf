-- wrk script: the realistic 10-parameter hit from 1,000 returning visitors (uid rotates),
-- instead of every request minting a new visitor.
--   wrk -t1 -c64 -d10s -s loadtests/returning_visitors.lua http://127.0.0.1:8080
local n = 0
local base = "/?si=bench&ti=Hello%20World&lc=https%3A%2F%2Fexample.com%2Fposts%2Fhello-world%3Fa%3D1"
  .. "&ref=https%3A%2F%2Fwww.google.com%2F&sw=1920&sh=1080&utm_source=news&utm_medium=email"
  .. "&utm_campaign=launch&plan=pro&uid=1700000000000."
request = function()
  n = n + 1
  return wrk.format("GET", base .. (100000000 + n % 1000))
end
