-- wrk script: POST the AdmissionReview files given after `--`, in turn.
local bodies = {}
local i = 0
function init(args)
  for _, f in ipairs(args) do
    local h = assert(io.open(f, "rb"))
    table.insert(bodies, h:read("*a"))
    h:close()
  end
end
function request()
  i = i % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])
end
