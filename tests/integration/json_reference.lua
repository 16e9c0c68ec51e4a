-- json_reference.lua: post.lua's payload check as it was before its fast
-- lanes (lib.lua of commit e27ef01: utf8_ok and json_object_ok, renamed
-- ref_*), kept verbatim as the reference the new check must agree with on
-- every input (itest_scripts' test_json_check_matches_reference). Loaded
-- after lib.lua, so LIMIT and cjson are there. Test code only.

-- True when s is valid UTF-8 (shortest forms, no surrogates, at most
-- U+10FFFF) and, with text, holds no control character (C0, DEL, C1).
-- ASCII runs are skipped by one pattern search, so long JSON is cheap.
local function ref_utf8_ok(s, text)
  if text and string.find(s, '[%z\1-\31\127]') then return false end
  local i, n = 1, #s
  while true do
    i = string.find(s, '[\128-\255]', i)
    if not i then return true end
    local c = string.byte(s, i)
    local len, cp, min
    if c >= 0xc2 and c <= 0xdf then len, cp, min = 2, c - 0xc0, 0x80
    elseif c >= 0xe0 and c <= 0xef then len, cp, min = 3, c - 0xe0, 0x800
    elseif c >= 0xf0 and c <= 0xf4 then len, cp, min = 4, c - 0xf0, 0x10000
    else return false end
    if i + len - 1 > n then return false end
    for j = i + 1, i + len - 1 do
      local b = string.byte(s, j)
      if b < 0x80 or b > 0xbf then return false end
      cp = cp * 64 + (b - 0x80)
    end
    if cp < min or cp > 0x10ffff or (cp >= 0xd800 and cp <= 0xdfff)
        or (text and cp <= 0x9f) then
      return false
    end
    i = i + len
  end
end

-- ---------------------------------------------------------------------
-- JSON as strict as the C side (jansson with JSON_REJECT_DUPLICATES):
-- cjson.decode accepts repeated keys, 0x10, nan, Infinity, 1e999, \u0000,
-- raw control bytes in strings and bytes after the value, which C then
-- cannot read. One pass over the text, at most LIMIT.PAYLOAD bytes.
-- ---------------------------------------------------------------------

-- Index after the whitespace (JSON's four characters) at i. Most
-- tokens have none before them: one byte look first.
local function ref_json_ws(s, i)
  local b = string.byte(s, i)
  if b ~= 32 and b ~= 10 and b ~= 13 and b ~= 9 then return i end
  local _, e = string.find(s, '^[ \t\n\r]*', i)
  return e + 1
end

-- Index after the \uXXXX escape at k (a pair for a surrogate), or nil
-- for \u0000, a lone surrogate or bad hex.
local function ref_json_uescape(s, k)
  local h = string.match(s, '^\\u(%x%x%x%x)', k)
  local cp = h and tonumber(h, 16)
  if not cp or cp == 0 or (cp >= 0xdc00 and cp <= 0xdfff) then return nil end
  if cp < 0xd800 or cp > 0xdbff then return k + 6 end
  local l = string.match(s, '^\\u(%x%x%x%x)', k + 6)
  local lo = l and tonumber(l, 16)
  if not lo or lo < 0xdc00 or lo > 0xdfff then return nil end
  return k + 12
end

-- Index after the string that opens at i, or nil: no raw control byte,
-- only JSON's escapes. (UTF-8 is checked on the whole text.)
local function ref_json_string(s, i)
  local j = i + 1
  while true do
    local k = string.find(s, '["\\%z\1-\31]', j)
    if not k or string.byte(s, k) ~= 92 then
      return k and string.byte(s, k) == 34 and k + 1 or nil
    end
    local e = string.sub(s, k + 1, k + 1)
    if e == 'u' then
      j = ref_json_uescape(s, k)
      if not j then return nil end
    elseif string.find('"\\/bfnrt', e, 1, true) and e ~= '' then
      j = k + 2
    else
      return nil
    end
  end
end

-- Index after the number at i, or nil: JSON's grammar (no leading zero,
-- digits both sides of '.'), a real that fits a double, an integer that
-- fits 64 bits (as jansson's json_int_t). Plain integers take two finds.
local function ref_json_number(s, i)
  local d = string.byte(s, i) == 45 and i + 1 or i
  local _, e = string.find(s, '^%d+', d)
  if not e or (e > d and string.byte(s, d) == 48) then return nil end
  local b = string.byte(s, e + 1)
  if b == 46 or b == 101 or b == 69 then
    local _, f = string.find(s, '^%.%d+', e + 1)
    local _, x = string.find(s, '^[eE][%+%-]?%d+', (f or e) + 1)
    local j = (x or f or e) + 1
    if b == 46 and not f then return nil end
    local v = tonumber(string.sub(s, i, j - 1))
    if not v or v == math.huge or v == -math.huge then return nil end
    return j
  end
  if e - d >= 18 then
    local digits = string.sub(s, d, e)
    local max = d > i and '9223372036854775808' or '9223372036854775807'
    if #digits > 19 or (#digits == 19 and digits > max) then return nil end
  end
  return e + 1
end

-- Index after the scalar (string, number, true, false, null) at i, or nil.
local function ref_json_scalar(s, i)
  local c = string.byte(s, i)
  if c == 34 then return ref_json_string(s, i) end
  if c == 116 then return string.sub(s, i, i + 3) == 'true' and i + 4 or nil end
  if c == 102 then return string.sub(s, i, i + 4) == 'false' and i + 5 or nil end
  if c == 110 then return string.sub(s, i, i + 3) == 'null' and i + 4 or nil end
  return ref_json_number(s, i)
end

-- Records the key (string at i..j-1) in the object's set; false when the
-- object has it already (compared decoded, as jansson does).
local function ref_json_key_new(keys, s, i, j)
  local key = string.sub(s, i + 1, j - 2)
  if string.find(key, '\\', 1, true) then
    local ok, v = pcall(cjson.decode, '"' .. key .. '"')
    if not ok then return false end
    key = v
  end
  if keys[key] then return false end
  keys[key] = true
  return true
end

-- True when s is exactly one JSON object (whitespace around it) that the
-- C side reads too: strict grammar, no repeated key in any object, at most
-- LIMIT.PAYLOAD_DEPTH levels of nesting. Iterative: stack holds a key set
-- per open object and false per open array.
local function ref_json_object_ok(s)
  local stack, want = {}, 'value'
  local i = ref_json_ws(s, 1)
  if string.byte(s, i) ~= 123 then return false end
  while true do
    local c = string.byte(s, i)
    local top = stack[#stack]
    if want == 'value' and (c == 123 or c == 91) then -- { [
      if #stack >= LIMIT.PAYLOAD_DEPTH then return false end
      stack[#stack + 1] = c == 123 and {} or false
      i = ref_json_ws(s, i + 1)
      want = c == 123 and 'key' or 'value'
      if string.byte(s, i) == c + 2 then -- } ]
        stack[#stack], i, want = nil, i + 1, 'next'
      end
    elseif want == 'value' then
      i, want = ref_json_scalar(s, i), 'next'
      if not i then return false end
    elseif want == 'key' then
      local j = c == 34 and ref_json_string(s, i)
      if not j or not ref_json_key_new(top, s, i, j) then return false end
      i = ref_json_ws(s, j)
      if string.byte(s, i) ~= 58 then return false end -- :
      i, want = ref_json_ws(s, i + 1), 'value'
    elseif #stack == 0 then
      return ref_json_ws(s, i) == #s + 1
    else
      i = ref_json_ws(s, i)
      c = string.byte(s, i)
      if c == 44 then -- ,
        i, want = ref_json_ws(s, i + 1), top and 'key' or 'value'
      elseif c == (top and 125 or 93) then -- } ]
        stack[#stack], i = nil, i + 1
      else
        return false
      end
    end
  end
end
