# studio_embed_sql_migrations(<target> <dir>): compiles every <dir>/NNNN_name.sql into <target>
# (core/store/pgschema.h: schemaMigrations()), in version order. The files are read at configure time;
# adding or editing one re-runs CMake on the next build.
function(studio_embed_sql_migrations target dir)
    file(GLOB files CONFIGURE_DEPENDS "${dir}/*.sql")
    list(SORT files COMPARE NATURAL)
    set(entries "")
    set(seen "")
    foreach(file IN LISTS files)
        get_filename_component(base "${file}" NAME_WE)
        if(NOT base MATCHES "^([0-9]+)_([A-Za-z0-9_]+)$")
            message(FATAL_ERROR "SQL migration ${file}: the name must be NNNN_name.sql")
        endif()
        set(name "${CMAKE_MATCH_2}") # before the next regex resets CMAKE_MATCH_<n>
        string(REGEX REPLACE "^0+([0-9])" "\\1" version "${CMAKE_MATCH_1}")
        if(version IN_LIST seen)
            message(FATAL_ERROR "SQL migration ${file}: version ${version} is used twice")
        endif()
        list(APPEND seen ${version})
        file(READ "${file}" sql)
        string(FIND "${sql}" ")studio_sql" clash)
        if(NOT clash EQUAL -1)
            message(FATAL_ERROR "SQL migration ${file} contains the text )studio_sql")
        endif()
        string(APPEND entries
            "    {${version}, \"${name}\", R\"studio_sql(${sql})studio_sql\"},\n")
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
    endforeach()
    set(STUDIO_SQL_MIGRATIONS "${entries}")
    configure_file("${CMAKE_CURRENT_SOURCE_DIR}/pgmigrations.cpp.in"
                   "${CMAKE_CURRENT_BINARY_DIR}/pgmigrations.cpp" @ONLY)
    target_sources(${target} PRIVATE "${CMAKE_CURRENT_BINARY_DIR}/pgmigrations.cpp")
endfunction()
