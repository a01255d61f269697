// VM inventories and name lookup (platform/windows/vm_catalog) on canned HCS and WMI data.
#include <doctest/doctest.h>

#include "platform/vms.h"
#include "platform/windows/vm_catalog.h"

using namespace hvterm::platform::detail;
using hvterm::platform::VmInfo;

namespace {

// As HcsEnumerateComputeSystems answers on a host with two VMs and a container.
constexpr const char* kHcsAnswer = R"([
  {"Id":"B7F6B8D2-5E4A-4B0E-9C1A-0D3E5F6A7B8C","SystemType":"VirtualMachine","Name":"build-01",
   "Owner":"VMMS","RuntimeId":"b7f6b8d2-5e4a-4b0e-9c1a-0d3e5f6a7b8c","State":"Running"},
  {"Id":"11111111-2222-3333-4444-555555555555","SystemType":"VirtualMachine","Name":"11111111-2222-3333-4444-555555555555",
   "Owner":"VMMS","State":"Paused"},
  {"Id":"c0ffee00-0000-0000-0000-000000000000","SystemType":"Container","Name":"web","State":"Running"},
  {"Id":"not-a-guid","SystemType":"VirtualMachine","Name":"broken","State":"Running"}
])";

}  // namespace

TEST_CASE("HCS: virtual machines only, IDs canonical, states in lower case") {
  std::vector<VmInfo> vms;
  std::string error;
  REQUIRE(parse_hcs_systems(kHcsAnswer, vms, error));
  REQUIRE(vms.size() == 2);
  CHECK(vms[0].id == "b7f6b8d2-5e4a-4b0e-9c1a-0d3e5f6a7b8c");
  CHECK(vms[0].name == "build-01");
  CHECK(vms[0].state == "running");
  CHECK(vms[1].state == "paused");
}

TEST_CASE("HCS: empty answers and broken ones") {
  std::vector<VmInfo> vms;
  std::string error;
  CHECK(parse_hcs_systems("[]", vms, error));
  CHECK(parse_hcs_systems("null", vms, error));
  CHECK(vms.empty());
  CHECK_FALSE(parse_hcs_systems("{\"Id\":1}", vms, error));
  CHECK(error.find("not a list") != std::string::npos);
  CHECK_FALSE(parse_hcs_systems("[{", vms, error));
  CHECK(error.find("unreadable answer from the Host Compute Service") == 0);
  CHECK(hcs_state_name("SavedAsTemplate") == "saved");
  CHECK(hcs_state_name("") == "unknown");
}

TEST_CASE("HCS: escaped names come out as UTF-8; members of the wrong type count as absent") {
  std::vector<VmInfo> vms;
  std::string error;
  REQUIRE(parse_hcs_systems(R"([
    {"Id":"b7f6b8d2-5e4a-4b0e-9c1a-0d3e5f6a7b8c","SystemType":"VirtualMachine","Name":"caf\u00e9 \ud83d\ude00 \"q\"",
     "State":"Running"},
    {"Id":"11111111-2222-3333-4444-555555555555","SystemType":"VirtualMachine","Name":5,"State":null},
    {"Id":7,"SystemType":"VirtualMachine","Name":"no id"},
    "not an object"
  ])",
                            vms, error));
  REQUIRE(vms.size() == 2);
  CHECK(vms[0].name == "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\"");
  CHECK(vms[1].name.empty());
  CHECK(vms[1].state == "unknown");
  CHECK_FALSE(parse_hcs_systems(R"(["\ud83d"])", vms, error));  // half a surrogate pair
  CHECK_FALSE(parse_hcs_systems("[] []", vms, error));          // one document, nothing after it
  CHECK_FALSE(parse_hcs_systems("[1e999]", vms, error));        // out of range: an error, not an abort
  CHECK(error.find("unreadable answer from the Host Compute Service") == 0);
}

TEST_CASE("WMI: EnabledState names and rows") {
  CHECK(wmi_state_name(2) == "running");
  CHECK(wmi_state_name(3) == "off");
  CHECK(wmi_state_name(32768) == "paused");
  CHECK(wmi_state_name(32769) == "saved");
  CHECK(wmi_state_name(7) == "state 7");
  auto vm = vm_from_wmi("B7F6B8D2-5E4A-4B0E-9C1A-0D3E5F6A7B8C", "build-01", 2);
  REQUIRE(vm);
  CHECK(vm->id == "b7f6b8d2-5e4a-4b0e-9c1a-0d3e5f6a7b8c");
  CHECK(vm->state == "running");
  CHECK_FALSE(vm_from_wmi("HOSTNAME", "HOSTNAME", 2));  // the host's own row
}

TEST_CASE("merging: WMI names win over HCS IDs-as-names, HCS adds what WMI lacks") {
  std::vector<VmInfo> wmi = {{"11111111-2222-3333-4444-555555555555", "db", "paused"},
                             {"22222222-0000-0000-0000-000000000000", "off-vm", "off"}};
  std::vector<VmInfo> hcs;
  std::string error;
  REQUIRE(parse_hcs_systems(kHcsAnswer, hcs, error));
  auto all = merge_vms(wmi, hcs);
  REQUIRE(all.size() == 3);
  CHECK(all[0].name == "db");
  CHECK(all[2].name == "build-01");
  std::vector<VmInfo> only_ids = {
      {"11111111-2222-3333-4444-555555555555", "11111111-2222-3333-4444-555555555555", "paused"}};
  CHECK(merge_vms(only_ids, wmi)[0].name == "db");
}

TEST_CASE("lookup by name: exact, then ignoring case; several VMs of one name are an error listing them") {
  std::vector<VmInfo> vms = {{"aaaaaaaa-0000-0000-0000-000000000001", "web", "running"},
                             {"aaaaaaaa-0000-0000-0000-000000000002", "Web", "off"},
                             {"aaaaaaaa-0000-0000-0000-000000000003", "db", "running"},
                             {"aaaaaaaa-0000-0000-0000-000000000004", "db", "saved"}};
  CHECK(find_vm_by_name(vms, "web").id == "aaaaaaaa-0000-0000-0000-000000000001");
  CHECK(find_vm_by_name(vms, "WEB").error.find("ambiguous") != std::string::npos);
  auto db = find_vm_by_name(vms, "db");
  CHECK_FALSE(db.id);
  CHECK(db.error == "the VM name 'db' is ambiguous: 2 VMs have it: aaaaaaaa-0000-0000-0000-000000000003 (running), "
                    "aaaaaaaa-0000-0000-0000-000000000004 (saved); use hv:VMID");
  auto none = find_vm_by_name(vms, "cache");
  CHECK_FALSE(none.id);
  CHECK(none.error.empty());
}

TEST_CASE("inventory errors say what to do") {
  CHECK(wmi_error_text(static_cast<long>(0x8004100Eul)).find("Hyper-V is not installed") == 0);
  CHECK(wmi_error_text(static_cast<long>(0x80041003ul)).find("Hyper-V Administrators") != std::string::npos);
  CHECK(hcs_error_text(static_cast<long>(0x80070005ul)).find("administrator") != std::string::npos);
  CHECK(hcs_error_text(static_cast<long>(0x8007007Eul)) ==
        "the Host Compute Service is not installed (no computecore.dll)");
}
