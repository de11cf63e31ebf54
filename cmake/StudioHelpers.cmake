# One small helper per target kind (after Qt Creator's add_qtc_library/add_qtc_test): every target
# gets C++20 without extensions, the same warnings, an alias and the Qt hygiene defines.

function(studio_apply_defaults target)
    set_target_properties(${target} PROPERTIES
        CXX_STANDARD 20
        CXX_STANDARD_REQUIRED ON
        CXX_EXTENSIONS OFF)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
    target_compile_definitions(${target} PRIVATE
        QT_NO_CAST_FROM_ASCII
        QT_NO_CAST_TO_ASCII
        QT_NO_FOREACH
        QT_NO_KEYWORDS
        QT_USE_QSTRINGBUILDER
        QT_NO_URL_CAST_FROM_STRING
        QT_STRICT_ITERATORS)
endfunction()

# studio_add_library(<name> SOURCES ... [PUBLIC_LINK ...] [PRIVATE_LINK ...])
# A static library for one folder (core/kafka, ui/charts, ...). Its headers are included by their
# path from the repository root ("core/kafka/kafkaclient.h"), but only by targets that link it:
# the include directory it exports is build/include/<name>, holding one symbolic link to this
# folder under its repository path, never the repository root. A reach across the layering (a
# header of a folder the target does not link) fails to compile.
function(studio_add_library name)
    cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_LINK;PRIVATE_LINK" ${ARGN})
    add_library(${name} STATIC ${ARG_SOURCES})
    add_library(Studio::${name} ALIAS ${name})
    studio_apply_defaults(${name})
    file(RELATIVE_PATH folder ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
    set(root ${CMAKE_BINARY_DIR}/include/${name})
    get_filename_component(parent ${root}/${folder} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${folder} SYMBOLIC)
    target_include_directories(${name} PUBLIC ${root})
    target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_LINK} PRIVATE ${ARG_PRIVATE_LINK})
endfunction()

# studio_add_layer(<name> LIBS ...): Studio::<name>, one target that links every library of a
# layer (core, ui) for what uses the layer as a whole: the app, tests and benchmarks.
function(studio_add_layer name)
    cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
    add_library(${name} INTERFACE)
    add_library(Studio::${name} ALIAS ${name})
    target_link_libraries(${name} INTERFACE ${ARG_LIBS})
endfunction()

# studio_add_executable(<name> SOURCES ... [LINK ...])
function(studio_add_executable name)
    cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    studio_apply_defaults(${name})
    target_link_libraries(${name} PRIVATE ${ARG_LINK})
endfunction()

# studio_add_test(<name> SOURCES ... [LINK ...] [LABELS ...] [TIMEOUT s] [RUN_SERIAL] [QT_MAIN])
# A Catch2 test binary registered with ctest, one ctest entry per test case. RUN_SERIAL keeps
# timing-sensitive cases (rates measured in real time) from sharing the cores with other tests.
# QT_MAIN runs the cases inside one QApplication (offscreen unless QT_QPA_PLATFORM says otherwise).
function(studio_add_test name)
    cmake_parse_arguments(ARG "RUN_SERIAL;QT_MAIN" "TIMEOUT" "SOURCES;LINK;LABELS" ${ARGN})
    set(main studio_catch_main)
    if(ARG_QT_MAIN)
        set(main studio_catch_qt_main)
    endif()
    set(serial FALSE)
    if(ARG_RUN_SERIAL)
        set(serial TRUE)
    endif()
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 120)
    endif()
    add_executable(${name} ${ARG_SOURCES})
    studio_apply_defaults(${name})
    target_link_libraries(${name} PRIVATE ${main} ${ARG_LINK})
    # --warn NoTests: a ctest entry whose name no longer selects its case (a ';' in a case name
    # splits it) fails instead of passing with nothing run.
    catch_discover_tests(${name}
        EXTRA_ARGS --warn NoTests
        PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} RUN_SERIAL ${serial}
        DISCOVERY_TIMEOUT 60)
endfunction()
